/**
 * The write step of a slice: the only writer of its rows. The ledger first
 * (postLedger: accounts locked in code order, running balances, one
 * multi-row statement per table), then everything else in one statement
 * (batch-write.ts): inbox rows and verdicts, orders, milestones
 * (version-guarded), payments, kept events and the outbox, in event order.
 */
import type { Knex } from 'knex';
import { postLedger } from '../ledger/post-transactions';
import { type ChargebackWrite, chargebackRecord } from '../store/chargebacks';
import { type DisbursementRow, disbursementRow } from '../store/disbursements';
import { writeBatch } from './batch-write';
import { type OutboxRow, outboxRows } from './outbox';
import { paymentMergeColumns, type PaymentRow, paymentRow } from './payments';
import type { SlicePlan } from './slice-plan';

export async function writeSlice(
  trx: Knex.Transaction,
  plan: SlicePlan,
  topicPrefix: string,
): Promise<void> {
  const { now, storedKept, failedKept } = plan.state;
  const transactionIds = await postLedger(trx, plan.drafts);
  const payments = new Map<string, PaymentRow>();
  const outbox: OutboxRow[] = [];
  const disbursements: DisbursementRow[] = [];
  for (const decided of plan.decided) {
    const { command } = decided.event;
    const ids = transactionIds.slice(
      decided.firstDraft,
      decided.firstDraft + decided.decision.transactions.length,
    );
    if (command.type === 'PAYMENT_CONFIRMED' && decided.conflict === undefined) {
      const row = paymentRow(command, decided.decision, ids, decided.hash, {
        confirmedAt: decided.event.occurredAt,
        now,
      });
      if (row) mergePayment(payments, row);
    }
    const rows = outboxRows(decided.decision.outcomes, {
      eventId: command.eventId,
      transactionIds: ids,
      now,
      topicPrefix,
      traceparent: decided.event.traceparent,
      tracestate: decided.event.tracestate,
    });
    outbox.push(...rows);
    decided.owner.outcomeIds.push(...rows.map((row) => row.outcome_id));
    for (const row of rows) {
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
}

/**
 * Each chargeback the slice changed, as it leaves it, with the events and
 * ledger transactions that created and reversed it.
 */
function chargebackWrites(plan: SlicePlan, transactionIds: readonly string[]): ChargebackWrite[] {
  const writes: ChargebackWrite[] = [];
  for (const changes of plan.chargebackChanges.values()) {
    const write: ChargebackWrite = {
      chargeback: changes.at(-1)!.chargeback,
      created: changes[0]!.created,
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
