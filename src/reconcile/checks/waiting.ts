/**
 * What waits too long: payments and events kept for an order or milestone that
 * has not come (CONTRACT.md: a payment is kept, never dropped, and
 * reconciliation lists what stays unmatched), and outbox rows not published
 * (invariant 5: every outbox row is published eventually). Each is found past
 * a threshold, and a finding past its threshold is a discrepancy. These sets
 * are small in a healthy system and each has a partial index, so each is one
 * query that counts everything and lists the oldest. The set is MATERIALIZED
 * before the LIMIT so that the LIMIT cannot steer its plan.
 */
import { amountText, durationText } from '../text';
import type { Check, CheckRun } from '../types';

const before = (run: CheckRun, ms: number) => new Date(run.options.now.getTime() - ms);
const age = (run: CheckRun, since: Date) =>
  durationText(run.options.now.getTime() - since.getTime());

/** Lists the rows (at most maxExamplesPerCheck come back) and counts the rest. */
function report<T extends { total: string }>(run: CheckRun, rows: T[], describe: (row: T) => void) {
  rows.forEach(describe);
  const total = Number(rows[0]?.total ?? 0);
  run.foundUnlisted(total - rows.length);
  run.progress(1, 1);
}

interface PendingPaymentRow {
  total: string;
  payment_id: string;
  gateway: string;
  gateway_reference: string;
  order_id: string;
  milestone_id: string | null;
  currency: string;
  amount: string;
  received_at: Date;
  order_known: boolean;
}

export const unmatchedPayments: Check = {
  name: 'unmatched_payments',
  invariant:
    'CONTRACT.md payment-confirmed: a payment is kept, never dropped; reconciliation lists what stays unmatched',
  description:
    'payments still PENDING_ORDER (kept: their order never opened, or it has no such milestone) ' +
    'longer than the unmatched threshold',
  action:
    'ask the marketplace about the order (was ORDER_OPENED lost or sent to another deployment?) or the gateway ' +
    'about the milestoneId; the payment is applied by itself when its order opens, else refund it',
  async run(run) {
    const { rows } = await run.db.raw<{ rows: PendingPaymentRow[] }>(
      `WITH pending AS MATERIALIZED (
         SELECT p.payment_id, p.gateway, p.gateway_reference, p.order_id, p.milestone_id, p.currency,
           p.amount_minor, p.received_at,
           EXISTS (SELECT 1 FROM orders o WHERE o.order_id = p.order_id) AS order_known
         FROM payments p WHERE p.status = 'PENDING_ORDER' AND p.received_at <= ?)
       SELECT count(*) OVER ()::text AS total, payment_id::text, gateway, gateway_reference, order_id,
         milestone_id, currency, amount_minor::text AS amount, received_at, order_known
       FROM pending ORDER BY received_at, pending.payment_id LIMIT ?`,
      [before(run, run.options.unmatchedPaymentAfterMs), run.options.maxExamplesPerCheck],
    );
    report(run, rows, (row) => {
      run.found({
        subject: `payment ${row.gateway}/${row.gateway_reference} (order ${row.order_id})`,
        problem:
          `${amountText(row.amount, row.currency)} unmatched for ${age(run, row.received_at)}: ` +
          (row.order_known
            ? `order ${row.order_id} has no milestone ${row.milestone_id ?? '(none given)'}`
            : `order ${row.order_id} has never been opened`),
        refs: {
          gateway: row.gateway,
          gatewayReference: row.gateway_reference,
          orderId: row.order_id,
          ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
          paymentId: row.payment_id,
        },
      });
    });
  },
};

interface KeptRow {
  total: string;
  kept_id: string;
  order_id: string;
  dedupe_key: string;
  topic: string;
  received_at: Date;
  failed_reason: string | null;
  order_known: boolean;
}

export const keptEventsUnreplayed: Check = {
  name: 'kept_events_unreplayed',
  invariant:
    'DESIGN.md: nothing is ever lost silently; kept events are replayed when their order opens',
  description:
    'events kept for an order not opened yet that are still waiting past the unmatched threshold, whose ' +
    'replay failed, or whose order is open but which were never replayed (kept payments are listed by ' +
    'unmatched_payments unless their replay failed; settlements waiting for a payment or an outcome by ' +
    'settlements_kept)',
  action:
    'a failed replay names its reason: fix the cause and re-send the event; an event waiting for an ' +
    'order that never opens needs the marketplace to send ORDER_OPENED or to withdraw the event',
  async run(run) {
    const { rows } = await run.db.raw<{ rows: KeptRow[] }>(
      `WITH waiting AS MATERIALIZED (
         SELECT k.kept_id, k.order_id, k.dedupe_key, k.topic, k.received_at, k.failed_reason, k.awaiting,
           EXISTS (SELECT 1 FROM orders o WHERE o.order_id = k.order_id) AS order_known
         FROM kept_events k WHERE k.replayed_at IS NULL)
       SELECT count(*) OVER ()::text AS total, kept_id::text, order_id, dedupe_key, topic, received_at,
         failed_reason, order_known
       FROM waiting
       -- Settlements waiting for a payment or an outcome (awaiting) are settlements_kept's.
       WHERE failed_reason IS NOT NULL
         OR (awaiting IS NULL AND (order_known
           OR (received_at <= ? AND dedupe_key NOT LIKE 'payment:%')))
       ORDER BY waiting.kept_id LIMIT ?`,
      [before(run, run.options.unmatchedPaymentAfterMs), run.options.maxExamplesPerCheck],
    );
    report(run, rows, (row) => {
      const waited = `kept for ${age(run, row.received_at)}`;
      run.found({
        subject: `kept event ${row.dedupe_key} (order ${row.order_id})`,
        problem:
          row.failed_reason !== null
            ? `${waited}; its replay failed: ${row.failed_reason}`
            : row.order_known
              ? `${waited}; order ${row.order_id} is open but the event was never replayed`
              : `${waited}; order ${row.order_id} has never been opened`,
        refs: {
          keptId: row.kept_id,
          orderId: row.order_id,
          dedupeKey: row.dedupe_key,
          topic: row.topic,
        },
      });
    });
  },
};

interface OutboxRow {
  total: string;
  outbox_id: string;
  outcome_id: string;
  topic: string;
  type: string;
  message_key: string;
  created_at: Date;
}

export const outboxUnpublished: Check = {
  name: 'outbox_unpublished',
  invariant: 'DESIGN.md invariant 5: every outbox row is published eventually',
  description: 'outbox rows still unpublished past the outbox threshold',
  action:
    'is a worker running its outbox relay (npm start; /readyz)? Is Kafka reachable? The relay logs why ' +
    'a batch failed; rows are published in order once it recovers',
  async run(run) {
    const { rows } = await run.db.raw<{ rows: OutboxRow[] }>(
      `WITH late AS MATERIALIZED (
         SELECT outbox_id, outcome_id, topic, type, message_key, created_at FROM outbox
         WHERE published_at IS NULL AND created_at <= ?)
       SELECT count(*) OVER ()::text AS total, outbox_id::text, outcome_id::text, topic, type,
         message_key, created_at
       FROM late ORDER BY late.outbox_id LIMIT ?`,
      [before(run, run.options.outboxUnpublishedAfterMs), run.options.maxExamplesPerCheck],
    );
    report(run, rows, (row) => {
      run.found({
        subject: `outbox row ${row.outbox_id} (${row.type} for order ${row.message_key})`,
        problem: `unpublished to ${row.topic} for ${age(run, row.created_at)}`,
        refs: { outboxId: row.outbox_id, outcomeId: row.outcome_id, orderId: row.message_key },
      });
    });
  },
};
