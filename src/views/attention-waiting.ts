/**
 * The attention page's waiting events: events kept because they arrived
 * before their order (or, for a chargeback or settlement, before the payment
 * or request they name) and not replayed yet, and payments still
 * PENDING_ORDER. Each is replayed by itself when what it waits for arrives;
 * reconciliation lists those waiting longer than an hour as discrepancies.
 * Here every one is listed, oldest first, with how many there are.
 *
 * Cost: the partial indexes kept_events_waiting and payments_pending_by_order
 * (both as small as what waits); the set is MATERIALIZED before the LIMIT so
 * the LIMIT cannot steer its plan.
 */
import type { Knex } from 'knex';
import { amountText } from './view-support';

export interface WaitingEvent {
  keptId: string;
  orderId: string;
  topic: string;
  eventId: string;
  dedupeKey: string;
  receivedAt: string;
  /** Null: its order; otherwise the payment's inbox key or "outcome:<id>" it waits for. */
  awaiting: string | null;
  /** Set when replaying it failed for good (it stays kept for an operator). */
  failedReason: string | null;
}

export interface WaitingPayment {
  gateway: string;
  gatewayReference: string;
  orderId: string;
  milestoneId: string | null;
  currency: string;
  amount: string;
  receivedAt: string;
  /** False when no order of that id exists; true when the order exists and lacks the milestone. */
  orderKnown: boolean;
}

export interface Waiting<T> {
  count: number;
  oldest: T[];
}

export async function waitingEvents(
  db: Knex.Transaction,
  listed: number,
): Promise<Waiting<WaitingEvent>> {
  const { rows } = await db.raw<{
    rows: {
      total: string;
      kept_id: string;
      order_id: string;
      topic: string;
      event_id: string;
      dedupe_key: string;
      received_at: Date;
      awaiting: string | null;
      failed_reason: string | null;
    }[];
  }>(
    `WITH waiting AS MATERIALIZED (
       SELECT k.kept_id, k.order_id, k.topic, i.event_id, k.dedupe_key, k.received_at, k.awaiting,
         k.failed_reason
       FROM kept_events k JOIN inbox i ON i.dedupe_key = k.dedupe_key
       WHERE k.replayed_at IS NULL)
     SELECT count(*) OVER ()::text AS total, kept_id::text, order_id, topic, event_id, dedupe_key,
       received_at, awaiting, failed_reason
     FROM waiting ORDER BY received_at, kept_id LIMIT ?`,
    [listed],
  );
  return {
    count: Number(rows[0]?.total ?? 0),
    oldest: rows.map((row) => ({
      keptId: row.kept_id,
      orderId: row.order_id,
      topic: row.topic,
      eventId: row.event_id,
      dedupeKey: row.dedupe_key,
      receivedAt: row.received_at.toISOString(),
      awaiting: row.awaiting,
      failedReason: row.failed_reason,
    })),
  };
}

export async function waitingPayments(
  db: Knex.Transaction,
  listed: number,
): Promise<Waiting<WaitingPayment>> {
  const { rows } = await db.raw<{
    rows: {
      total: string;
      gateway: string;
      gateway_reference: string;
      order_id: string;
      milestone_id: string | null;
      currency: string;
      amount_minor: string;
      received_at: Date;
      order_known: boolean;
    }[];
  }>(
    `WITH pending AS MATERIALIZED (
       SELECT p.payment_id, p.gateway, p.gateway_reference, p.order_id, p.milestone_id, p.currency,
         p.amount_minor, p.received_at
       FROM payments p WHERE p.status = 'PENDING_ORDER')
     SELECT count(*) OVER ()::text AS total, gateway, gateway_reference, order_id, milestone_id,
       currency, amount_minor::text, received_at,
       EXISTS (SELECT 1 FROM orders o WHERE o.order_id = pending.order_id) AS order_known
     FROM pending ORDER BY received_at, payment_id LIMIT ?`,
    [listed],
  );
  return {
    count: Number(rows[0]?.total ?? 0),
    oldest: rows.map((row) => ({
      gateway: row.gateway,
      gatewayReference: row.gateway_reference,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      currency: row.currency,
      amount: amountText(row.currency, row.amount_minor),
      receivedAt: row.received_at.toISOString(),
      orderKnown: row.order_known,
    })),
  };
}
