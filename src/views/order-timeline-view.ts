/**
 * GET /orders/{orderId}/timeline: everything that happened to an order, oldest
 * first, each line naming the line that caused it:
 *
 *   event        an inbound event as the inbox filed it (APPLIED, KEPT then
 *                replayed, REJECTED with its reason, UNCHANGED,
 *                IDEMPOTENCY_CONFLICT); the inspection timer's events too
 *   transaction  a ledger transaction with its entries, caused by its event
 *   outcome      an outcome written to the outbox (and when the relay published
 *                it), caused by its transaction, or by its event when it moved
 *                no money; a payout or refund request carries its state now
 *   settlement   a payout or refund settled PAID or FAILED, caused by the
 *                settlement event that reported it
 *
 * Every `at` is the database's timestamp with microseconds (UTC), the very
 * moment GET /orders/{orderId}?asOf= compares with, so "balances as of this
 * line" includes the line.
 *
 * What it cannot show (the console says so beside it): a duplicate delivery (the same key and
 * substance) writes no row, the inbox answers it and the worker counts it in
 * escrow_duplicates_absorbed_total; outcomes published more than the relay's
 * retention ago are pruned from the outbox; inbox rows written before the
 * inbox recorded order ids and not backfilled (migration 202612080001).
 *
 * Cost: the order's inbox rows (inbox_by_order), ledger transactions
 * (ledger_transactions_by_milestone), outbox rows (outbox_by_order) and
 * disbursements (disbursements_by_order): this order's rows only.
 */
import type { Knex } from 'knex';
import { type TimelineRows, timelineLines, type TimelineLine } from './order-timeline-lines';
import { onOneSnapshot, type ViewResult } from './view-support';

export type { TimelineLine };

export interface OrderTimelineView {
  orderId: string;
  currency: string;
  /** When the order was recorded (its ORDER_OPENED applied). */
  openedAt: string;
  /** The relay deletes published outcomes this many days after publishing them. */
  outboxRetentionDays: number;
  /** True when the order is older than that: outcome lines may be missing. */
  outcomesMayBePruned: boolean;
  lines: TimelineLine[];
}

export const outboxRetentionDays = 7;

const micros = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const eventsSql = `
  SELECT i.dedupe_key, i.event_id, i.topic, i.kafka_partition, i.kafka_offset::text,
    i.outcome, i.reason, ${micros('i.received_at')} AS at,
    k.kept_id::text, ${micros('k.received_at')} AS kept_at, ${micros('k.replayed_at')} AS replayed_at,
    k.failed_reason, k.awaiting
  FROM inbox i LEFT JOIN kept_events k ON k.dedupe_key = i.dedupe_key
  WHERE i.order_id = ?
  ORDER BY i.received_at, i.dedupe_key`;

const transactionsSql = `
  SELECT t.transaction_id::text, t.kind, t.milestone_id, t.cause_event_id, t.cause_topic,
    t.corrects_transaction_id::text, t.memo, ${micros('t.created_at')} AS at,
    e.entry_id::text, a.code AS account, a.kind AS account_kind, e.currency,
    e.amount_minor::text, e.balance_after_minor::text
  FROM ledger_transactions t
  JOIN ledger_entries e ON e.transaction_id = t.transaction_id
  JOIN accounts a ON a.account_id = e.account_id
  WHERE t.order_id = ?
  ORDER BY t.transaction_id, e.entry_id`;

const outcomesSql = `
  SELECT outcome_id::text, topic, type, payload->>'milestoneId' AS milestone_id,
    payload->>'causeEventId' AS cause_event_id,
    payload->>'ledgerTransactionId' AS ledger_transaction_id,
    ${micros('created_at')} AS at, ${micros('published_at')} AS published_at
  FROM outbox WHERE message_key = ?
  ORDER BY outbox_id`;

const disbursementsSql = `
  SELECT outcome_id::text, kind, milestone_id, party_id, currency, amount_minor::text, state,
    failure_reason, settlement_gateway, settlement_reference, settlement_event_id,
    retry_of::text, ${micros('requested_at')} AS requested_at, ${micros('settled_at')} AS settled_at
  FROM disbursements WHERE order_id = ?
  ORDER BY requested_at, outcome_id`;

/** The order's timeline, or absent when no order has that id. */
export function orderTimelineView(
  db: Knex,
  orderId: string,
  now: Date,
): Promise<ViewResult<OrderTimelineView>> {
  return onOneSnapshot(db, async (trx) => {
    const { rows: orders } = await trx.raw<{
      rows: { currency: string; opened_at: string; older: boolean }[];
    }>(
      `SELECT currency, ${micros('created_at')} AS opened_at,
         created_at < ?::timestamptz - make_interval(days => ?) AS older
       FROM orders WHERE order_id = ?`,
      [now.toISOString(), outboxRetentionDays, orderId],
    );
    const order = orders[0];
    if (!order) return { absent: `no order ${JSON.stringify(orderId)}` };
    const read = async <T>(sql: string) => (await trx.raw<{ rows: T[] }>(sql, [orderId])).rows;
    const rows: TimelineRows = {
      events: await read(eventsSql),
      transactions: await read(transactionsSql),
      outcomes: await read(outcomesSql),
      disbursements: await read(disbursementsSql),
    };
    return {
      view: {
        orderId,
        currency: order.currency,
        openedAt: order.opened_at,
        outboxRetentionDays,
        outcomesMayBePruned: order.older,
        lines: timelineLines(rows),
      },
    };
  });
}
