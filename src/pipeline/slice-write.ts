/**
 * The write step of a slice: the only writer of its rows. The ledger's ids
 * are drawn first (allocateLedger: no lock), then everything else is
 * written in one statement (batch-write.ts): inbox rows and verdicts,
 * orders, milestones (version-guarded), payments, kept events, the outbox
 * in event order, and chargebacks (guarded by what the load read). The
 * ledger comes last (postAllocatedLedger: running-balance accounts locked
 * in code order, balances, hashes, one multi-row statement per table).
 *
 * Why last: a provider's payable and receivable accounts are shared by all
 * of its orders, so by other lanes' transactions, and a lock taken on them
 * is held to the commit; taken last, it covers only the ledger's statement
 * and the commit, not the batch write. Nothing else references a ledger
 * transaction by foreign key, so the rows naming the ids can go first.
 * A refusal (a balance below its floor) still leaves nothing behind: it
 * throws and the whole transaction rolls back.
 */
import type { Knex } from 'knex';
import type { Chargeback } from '../domain/escrow';
import { allocateLedger, postAllocatedLedger } from '../ledger/post-transactions';
import { type ChargebackWrite, chargebackRecord } from '../store/chargebacks';
import { type DisbursementRow, disbursementRow } from '../store/disbursements';
import { writeBatch } from './batch-write';
import { type OutboxRow, outboxRows } from './outbox';
import { paymentMergeColumns, type PaymentRow, withTransactionIds } from './payments';
import type { SlicePlan } from './slice-plan';

/** Writes the slice; returns its outbox rows, in order, for the relay once the transaction commits. */
export async function writeSlice(
  trx: Knex.Transaction,
  plan: SlicePlan,
  topicPrefix: string,
): Promise<readonly OutboxRow[]> {
  const { now, storedKept, failedKept } = plan.state;
  const ledger = await allocateLedger(trx, plan.drafts);
  const transactionIds = ledger.ids;
  const payments = new Map<string, PaymentRow>();
  const outbox: OutboxRow[] = [];
  const disbursements: DisbursementRow[] = [];
  for (const decided of plan.decided) {
    const { command } = decided.event;
    const ids = transactionIds.slice(
      decided.firstDraft,
      decided.firstDraft + decided.decision.transactions.length,
    );
    if (decided.payment && decided.conflict === undefined)
      mergePayment(payments, withTransactionIds(decided.payment, decided.decision, ids));
    const rows = outboxRows(decided.decision.outcomes, {
      eventId: command.eventId,
      transactionIds: ids,
      now,
      topicPrefix,
      traceparent: decided.event.traceparent,
      tracestate: decided.event.tracestate,
    });
    for (const row of rows) {
      outbox.push(row);
      decided.owner.outcomeIds.push(row.outcome_id);
      const requested = disbursementRow(row, now);
      if (requested) disbursements.push(requested);
    }
  }
  const chargebacks = chargebackWrites(plan, transactionIds);
  await writeBatch(trx, {
    // New keys only, each with its final verdict (a kept event replayed in
    // the batch has its replay's); events kept before the batch get their
    // replay's verdict on the row they have.
    inbox: [...plan.inbox.values()],
    replayedVerdicts: [...storedKept].flatMap(([key, verdict]) =>
      verdict ? [{ key, ...verdict }] : [],
    ),
    opened: [...plan.opened.values()],
    changedOrders: [...plan.changedOrders.values()],
    milestones: [...plan.milestoneChanges.values()],
    payments: [...payments.values()],
    keptRows: plan.keptRows,
    replayedKeptIds: plan.replayedKeptIds,
    failedKept,
    rekept: plan.rekept,
    outbox,
    disbursements,
    settled: plan.settled,
    createdChargebacks: chargebacks.filter((c) => c.created).map((c) => chargebackRecord(c, now)),
    changedChargebacks: chargebacks.filter((c) => !c.created).map((c) => chargebackRecord(c, now)),
    now,
  });
  await postAllocatedLedger(trx, ledger);
  return outbox;
}

/**
 * Each chargeback the slice changed, as it leaves it and as its load read it
 * (the guard of its update), with the events and ledger transactions that
 * created and reversed it.
 */
function chargebackWrites(plan: SlicePlan, transactionIds: readonly string[]): ChargebackWrite[] {
  const read = plan.state.chargebacksRead;
  const writes: ChargebackWrite[] = [];
  for (const [key, changes] of plan.chargebackChanges) {
    const { created } = changes[0]!;
    const write: ChargebackWrite = {
      chargeback: changes.at(-1)!.chargeback,
      created,
      ...(created ? {} : { read: readBefore(read, key) }),
      event_id: null,
      ledger_transaction_id: null,
      reversal_event_id: null,
      reversal_ledger_transaction_id: null,
    };
    for (const { decided } of changes) {
      const { transactions } = decided.decision;
      const id = (kind: string) => {
        const index = transactions.findIndex((transaction) => transaction.kind === kind);
        return index < 0 ? null : (transactionIds[decided.firstDraft + index] ?? null);
      };
      const { command } = decided.event;
      if (command.type === 'CHARGEBACK') {
        write.event_id = command.eventId;
        write.ledger_transaction_id = id('CHARGEBACK');
      } else if (command.type === 'CHARGEBACK_REVERSED') {
        write.reversal_event_id = command.eventId;
        write.reversal_ledger_transaction_id = id('CHARGEBACK_REVERSAL');
      }
    }
    writes.push(write);
  }
  return writes;
}

/** A chargeback the slice did not create was read by its load. */
function readBefore(read: ReadonlyMap<string, Chargeback>, key: string): Chargeback {
  const chargeback = read.get(key);
  if (chargeback === undefined)
    throw new Error(`chargeback ${key} was changed but never read: its update would be unguarded`);
  return chargeback;
}

/**
 * One row per gateway transaction: a payment kept and replayed in the same
 * batch keeps its first row and takes the replay's merge columns, as the
 * one-event path's upsert would leave it.
 */
function mergePayment(payments: Map<string, PaymentRow>, row: PaymentRow): void {
  const key = `${row.gateway}\u0000${row.gateway_reference}`;
  const earlier = payments.get(key);
  if (!earlier) {
    payments.set(key, row);
    return;
  }
  const merged: Record<string, unknown> = { ...earlier };
  for (const column of paymentMergeColumns) merged[column] = row[column];
  payments.set(key, merged as PaymentRow);
}
