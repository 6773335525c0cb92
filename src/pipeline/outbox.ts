/**
 * Writes a decision's outcomes to the outbox in the same transaction as the
 * state change they report, each shaped exactly as the Avro record of its
 * topic, with a fresh outcomeId that also travels as the `outcome-id` header.
 * The relay publishes these rows as they are, so a redelivery after a crash
 * carries the same outcomeId.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { OutcomeDraft } from '../domain/escrow';

export interface OutcomeCause {
  eventId: string;
  /** Ledger transaction ids of the decision, by the drafts' transactionIndex. */
  transactionIds: readonly string[];
  now: Date;
  topicPrefix: string;
}

const eventColumns = [
  'state',
  'currency',
  'originalAmount',
  'amount',
  'funded',
  'held',
  'disputed',
  'released',
  'fees',
  'refunded',
  'reason',
  'message',
] as const;

/** The Avro record of the outcome's topic; escrow.events.v1 keeps extra facts in `details`. */
export function outcomeRecord(draft: OutcomeDraft, outcomeId: string, cause: OutcomeCause) {
  const common = {
    outcomeId,
    type: draft.type,
    orderId: draft.orderId,
    milestoneId: draft.milestoneId,
    causeEventId: cause.eventId,
    ledgerTransactionId:
      draft.transactionIndex === null
        ? null
        : (cause.transactionIds[draft.transactionIndex] ?? null),
    milestoneVersion: draft.milestoneVersion,
    occurredAt: cause.now.toISOString(),
  };
  if (draft.topic !== 'escrow.events.v1') return { ...common, ...draft.fields };
  const fields: Record<string, unknown> = { ...draft.fields };
  const columns = Object.fromEntries(
    eventColumns.map((column) => {
      const value = fields[column];
      delete fields[column];
      return [column, typeof value === 'string' ? value : null];
    }),
  );
  const details = Object.keys(fields).length > 0 ? JSON.stringify(fields) : null;
  return { ...common, ...columns, details };
}

export async function writeOutcomes(
  trx: Knex.Transaction,
  outcomes: readonly OutcomeDraft[],
  cause: OutcomeCause,
): Promise<string[]> {
  if (outcomes.length === 0) return [];
  const rows = outcomes.map((draft) => {
    const outcomeId = randomUUID();
    return {
      outcome_id: outcomeId,
      topic: `${cause.topicPrefix}${draft.topic}`,
      message_key: draft.orderId,
      type: draft.type,
      payload: outcomeRecord(draft, outcomeId, cause),
      headers: { 'outcome-id': outcomeId, 'cause-event-id': cause.eventId },
    };
  });
  await trx('outbox').insert(rows);
  // Delivered at commit: wakes the relay without waiting for its poll.
  await trx.raw(`SELECT pg_notify('escrow_outbox', '')`);
  return rows.map((row) => row.outcome_id);
}
