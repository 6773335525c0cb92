/**
 * The database floor's payouts, refunds and chargebacks (db-floor-model.ts
 * decides, db-floor.ts writes): each request recorded as the worker's write
 * records it and read back as its load would, the settlement the bench sends
 * in answer, the chargebacks each event created or changed, and their rows
 * written with the worker's own statements.
 */
import type { Knex } from 'knex';
import type { InboundMessage } from '../demo/inbound-events';
import type { Disbursement, EscrowCommand } from '../domain/escrow';
import { money } from '../domain/money';
import type { OutboxRow } from '../pipeline/outbox';
import type { SlicePlan } from '../pipeline/slice-plan';
import {
  type ChargebackWrite,
  chargebackRecord,
  changedChargebackRows,
  createdChargebackRows,
  insertChargebacksSql,
  updateChargebacksSql,
} from '../store/chargebacks';
import {
  type DisbursementRow,
  disbursementRecordset,
  disbursementRow,
  insertDisbursementsSql,
  settledRecordset,
  settleDisbursementsSql,
} from '../store/disbursements';
import type { FloorEvent } from './floor-rows';
import {
  type PublishedRequest,
  requestKey,
  requestKindOf,
  type SettlementAnswer,
  settlementOf,
} from './settlement-plan';

/**
 * The disbursements rows of the payouts and refunds among an event's
 * outcomes; each is also put in `known` as a later slice's load would read
 * it back (loadDisbursements), for the settlement that names it.
 */
export function requestedIn(
  outbox: readonly OutboxRow[],
  now: Date,
  known: Map<string, Disbursement>,
): DisbursementRow[] {
  const rows = outbox.flatMap((row) => {
    const requested = disbursementRow(row, now);
    return requested ? [requested] : [];
  });
  for (const row of rows)
    known.set(row.outcome_id, {
      outcomeId: row.outcome_id,
      kind: row.kind,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      partyId: row.party_id,
      amount: money(row.currency, BigInt(row.amount_minor)),
      state: 'REQUESTED',
      rootOutcomeId: row.root_outcome_id,
    });
  return rows;
}

/** The settlements answering the requests among an event's outcomes, as the bench answers them (feedback.ts). */
export function answersTo(
  outbox: readonly OutboxRow[],
  answers: ReadonlyMap<string, SettlementAnswer>,
  answered: Set<string>,
): InboundMessage[] {
  return outbox.flatMap((row) => {
    const kind = requestKindOf(row.type);
    if (kind === null) return [];
    const request = { ...row.payload, type: row.type, outcomeId: row.outcome_id };
    const published = request as unknown as PublishedRequest;
    const key = requestKey(published.orderId, published.milestoneId ?? null, kind);
    // The plan's answer once; anything else is paid.
    const answer = answered.has(key) ? undefined : answers.get(key);
    answered.add(key);
    return [settlementOf(published, answer)];
  });
}

/** The chargebacks one event created or changed, with its event and ledger transaction ids. */
export function chargebackWrites(
  plan: SlicePlan,
  command: EscrowCommand,
  transactions: readonly { id: number; draft: { kind: string } }[],
): ChargebackWrite[] {
  const transactionOf = (kind: string) =>
    transactions.find((t) => t.draft.kind === kind)?.id.toString() ?? null;
  const charged = command.type === 'CHARGEBACK';
  const reversed = command.type === 'CHARGEBACK_REVERSED';
  return [...plan.chargebackChanges.values()].map((changes) => ({
    chargeback: changes.at(-1)!.chargeback,
    created: changes[0]!.created,
    event_id: charged ? command.eventId : null,
    ledger_transaction_id: charged ? transactionOf('CHARGEBACK') : null,
    reversal_event_id: reversed ? command.eventId : null,
    reversal_ledger_transaction_id: reversed ? transactionOf('CHARGEBACK_REVERSAL') : null,
  }));
}

/**
 * Payout and refund requests, their settlements and chargebacks, with the
 * worker's own statements (store/disbursements.ts, store/chargebacks.ts).
 * The worker writes them in one statement per slice; here a request and its
 * settlement can share a batch, so the rows are inserted first and settled
 * after, and each chargeback is written once, as the batch leaves it.
 */
export async function writeSettlements(
  trx: Knex.Transaction,
  events: readonly FloorEvent[],
  now: Date,
): Promise<number> {
  const disbursements = events.flatMap((e) => e.disbursements);
  const settled = events.flatMap((e) => e.settled);
  const chargebacks = new Map<string, ChargebackWrite>();
  for (const write of events.flatMap((e) => e.chargebacks)) {
    const earlier = chargebacks.get(write.chargeback.paymentKey);
    chargebacks.set(
      write.chargeback.paymentKey,
      earlier
        ? {
            chargeback: write.chargeback,
            created: earlier.created,
            event_id: write.event_id ?? earlier.event_id,
            ledger_transaction_id: write.ledger_transaction_id ?? earlier.ledger_transaction_id,
            reversal_event_id: write.reversal_event_id ?? earlier.reversal_event_id,
            reversal_ledger_transaction_id:
              write.reversal_ledger_transaction_id ?? earlier.reversal_ledger_transaction_id,
          }
        : write,
    );
  }
  const created = [...chargebacks.values()].filter((write) => write.created);
  const changed = [...chargebacks.values()].filter((write) => !write.created);
  if (disbursements.length > 0)
    await trx.raw(insertDisbursementsSql, [disbursementRecordset.json(disbursements)]);
  if (settled.length > 0)
    await trx.raw(settleDisbursementsSql, [now, settledRecordset.json(settled)]);
  if (created.length > 0)
    await trx.raw(insertChargebacksSql, [
      createdChargebackRows.json(created.map((write) => chargebackRecord(write, now))),
    ]);
  if (changed.length > 0)
    await trx.raw(updateChargebacksSql, [
      changedChargebackRows.json(changed.map((write) => chargebackRecord(write, now))),
    ]);
  return disbursements.length + settled.length + chargebacks.size;
}
