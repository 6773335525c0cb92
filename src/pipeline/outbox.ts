/**
 * Writes a decision's outcomes to the outbox in the same transaction as the
 * state change they report, each shaped exactly as the Avro record of its
 * topic, with a fresh outcomeId that also travels as the `outcome-id` header.
 * The relay publishes these rows as they are, so a redelivery after a crash
 * carries the same outcomeId.
 *
 * The headers also carry the W3C trace context of the event that caused the
 * outcome (`traceparent`, and `tracestate` when there is one), so that a
 * consumer's span continues the trace of that event (docs/operations.md,
 * "Traces").
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { prepared, Recordset } from '../db/columns';
import type { OutcomeDraft } from '../domain/escrow';

export interface OutcomeCause {
  eventId: string;
  /** Ledger transaction ids of the decision, by the drafts' transactionIndex. */
  transactionIds: readonly string[];
  now: Date;
  topicPrefix: string;
  /** The cause's trace context (InboundEvent.traceparent), if any. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
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
const eventColumnSet: ReadonlySet<string> = new Set(eventColumns);

/**
 * The Avro record of the outcome's topic; escrow.events.v1 keeps extra facts in `details`.
 *
 * Built with Object.assign onto one literal, not `{ ...common, ...fields }`:
 * V8 (Node 20) takes a slow path for an object literal that adds properties
 * after a spread, 13–17 µs for a record of this size, and this runs for
 * every outcome (measured in docs/benchmark.md).
 */
export function outcomeRecord(draft: OutcomeDraft, outcomeId: string, cause: OutcomeCause) {
  const common: Record<string, unknown> = {
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
  if (draft.topic !== 'escrow.events.v1') return Object.assign(common, draft.fields);
  // Built without `delete`, which turns objects into slow dictionaries.
  for (const column of eventColumns) {
    const value = draft.fields[column];
    common[column] = typeof value === 'string' ? value : null;
  }
  let extra: Record<string, unknown> | null = null;
  for (const name in draft.fields) {
    if (eventColumnSet.has(name)) continue;
    extra ??= {};
    extra[name] = draft.fields[name];
  }
  common.details = extra === null ? null : JSON.stringify(extra);
  return common;
}

export interface OutboxRow {
  readonly outcome_id: string;
  readonly topic: string;
  readonly message_key: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

/** The outbox rows of a decision's outcomes, each with a fresh outcomeId. */
export function outboxRows(outcomes: readonly OutcomeDraft[], cause: OutcomeCause): OutboxRow[] {
  return outcomes.map((draft) => {
    const outcomeId = randomUUID();
    // In the order jsonb keeps keys (shorter first, then byte order): the
    // relay sends a row from memory or as read back from the table, and its
    // headers go on the message in this order either way.
    const headers: Record<string, string> = { 'outcome-id': outcomeId };
    if (cause.traceparent !== undefined) {
      if (cause.tracestate !== undefined) headers.tracestate = cause.tracestate;
      headers.traceparent = cause.traceparent;
    }
    headers['cause-event-id'] = cause.eventId;
    return {
      outcome_id: outcomeId,
      topic: `${cause.topicPrefix}${draft.topic}`,
      message_key: draft.orderId,
      type: draft.type,
      payload: outcomeRecord(draft, outcomeId, cause),
      headers,
    };
  });
}

/** The outbox rows' parameter, each with its position in the slice (src/db/columns.ts). */
export const outboxRecordset = new Recordset<OutboxRow>(
  'outcome',
  'outcome_id uuid, topic text, message_key text, type text, payload jsonb, headers jsonb',
  { ordered: true },
);

/**
 * Inserts the outbox rows of its one jsonb parameter, in their order: ORDER
 * BY their position draws identity values in that order, which the relay's
 * per-key order relies on.
 */
export const insertOutboxSql = `
  INSERT INTO outbox (outcome_id, topic, message_key, type, payload, headers)
  SELECT outcome.outcome_id, outcome.topic, outcome.message_key, outcome.type, outcome.payload,
    outcome.headers
  FROM ${outboxRecordset.sql}
  ORDER BY outcome.position`;

/**
 * Inserts rows in one statement, in their order, with the notification that
 * wakes the relay at commit without waiting for its poll (in the same
 * statement, to save a round trip).
 */
export async function insertOutbox(trx: Knex.Transaction, rows: readonly OutboxRow[]) {
  if (rows.length === 0) return;
  await prepared(
    trx,
    'outbox_insert',
    `WITH inserted AS (${insertOutboxSql} RETURNING 1)
     SELECT pg_notify('escrow_outbox', '') FROM (SELECT count(*) FROM inserted) AS n`,
    [outboxRecordset.json(rows)],
  );
}
