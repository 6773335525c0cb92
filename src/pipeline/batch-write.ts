/**
 * Everything a batch writes besides the ledger, in ONE statement: inbox rows
 * and replayed verdicts, orders, milestones (version-guarded), payments, kept
 * events (new, replayed, or set aside with the reason their replay failed), outbox rows and the relay's notification, as data-modifying CTEs
 * each fed one jsonb parameter of positional rows (a Recordset, src/db/columns.ts; an empty array writes nothing). One round
 * trip instead of up to ten is what a small batch (a steady, modest rate
 * brings a few messages per partition) mostly pays for.
 *
 * The sub-statements run together on one snapshot and each touches its own
 * rows; foreign keys (milestones → orders, kept events → inbox) are checked
 * at the end of the statement, when both sides are there. Outbox ids are
 * drawn in the rows' order (WITH ORDINALITY ... ORDER BY), which the relay's
 * per-key order relies on.
 */
import type { Knex } from 'knex';
import { prepared, Recordset } from '../db/columns';
import type { MilestoneChange } from '../store/milestone-changes';
import {
  assertAllUpdated,
  insertMilestonesSql,
  milestoneRecords,
  updateMilestonesSql,
} from '../store/order-writes';
import { fromOrder } from '../store/order-rows';
import type { Order } from '../domain/escrow';
import {
  ChargebackMoved,
  type ChargebackWriteRecord,
  changedChargebackRows,
  createdChargebackRows,
  insertChargebacksSql,
  updateChargebacksSql,
} from '../store/chargebacks';
import {
  type DisbursementRow,
  disbursementRecordset,
  insertDisbursementsSql,
  SettlementConflict,
  type SettledRow,
  settledRecordset,
  settleDisbursementsSql,
} from '../store/disbursements';
import { insertOutboxSql, outboxRecordset, type OutboxRow } from './outbox';
import { paymentMergeColumns, type PaymentRow } from './payments';
import type { InboxRow, KeptRow } from './slice';

export interface BatchWrites {
  readonly inbox: readonly InboxRow[];
  readonly replayedVerdicts: readonly { key: string; outcome: string; reason: string | null }[];
  readonly opened: readonly { order: Order; eventId: string; occurredAt: Date }[];
  readonly changedOrders: readonly Order[];
  readonly milestones: readonly MilestoneChange[];
  readonly payments: readonly PaymentRow[];
  readonly keptRows: readonly KeptRow[];
  readonly replayedKeptIds: readonly string[];
  /** Kept events whose replay failed for good: they stay kept, with the reason. */
  readonly failedKept: readonly { kept_id: string; reason: string }[];
  /** Kept events replayed and kept again, until the payment they name arrives. */
  readonly rekept: readonly { kept_id: string; awaiting: string }[];
  readonly outbox: readonly OutboxRow[];
  /** A row per payout and refund requested (with its outbox row). */
  readonly disbursements: readonly DisbursementRow[];
  readonly settled: readonly SettledRow[];
  readonly createdChargebacks: readonly ChargebackWriteRecord[];
  readonly changedChargebacks: readonly ChargebackWriteRecord[];
  readonly now: Date;
}

/** Each multi-row parameter of the statement below: one jsonb of positional rows (src/db/columns.ts). */
const newInbox = new Recordset<InboxRow>(
  'inbox_row',
  `dedupe_key text, event_id text, order_id text,
    topic text, kafka_partition integer, kafka_offset bigint, payload_hash text, outcome text, reason text`,
);
const replayedVerdicts = new Recordset<BatchWrites['replayedVerdicts'][number]>(
  'verdict',
  `key text, outcome text, reason text`,
);
const openedOrders = new Recordset<object>(
  'opened',
  `order_id text, buyer_id text, provider_id text, currency text,
    state text, opened_event_id text, opened_at timestamptz`,
);
const changedOrders = new Recordset<object>('changed', `order_id text, state text`);
const paymentRows = new Recordset<PaymentRow>(
  'payment',
  `gateway text, gateway_reference text, event_id text, order_id text,
    milestone_id text, kind text, currency text, amount_minor bigint, confirmed_at timestamptz,
    payload_hash text, status text, applied_minor bigint, refunded_minor bigint,
    ledger_transaction_id bigint, applied_at timestamptz`,
);
const keptEvents = new Recordset<KeptRow>(
  'kept',
  `order_id text, dedupe_key text, topic text, command jsonb,
    replayed_at timestamptz, awaiting text`,
);
const rekeptEvents = new Recordset<BatchWrites['rekept'][number]>(
  'again',
  `kept_id bigint, awaiting text`,
);
const failedKeptEvents = new Recordset<BatchWrites['failedKept'][number]>(
  'failure',
  `kept_id bigint, reason text`,
);

const sql = `
WITH inserted_inbox AS (
  INSERT INTO inbox (dedupe_key, event_id, order_id, topic, kafka_partition, kafka_offset, payload_hash, outcome, reason)
  SELECT * FROM ${newInbox.sql}
  RETURNING 1
), updated_inbox AS (
  UPDATE inbox SET outcome = verdict.outcome, reason = verdict.reason
  FROM ${replayedVerdicts.sql}
  WHERE inbox.dedupe_key = verdict.key
  RETURNING 1
), inserted_orders AS (
  INSERT INTO orders (order_id, buyer_id, provider_id, currency, state, opened_event_id, opened_at)
  SELECT * FROM ${openedOrders.sql}
  RETURNING 1
), updated_orders AS (
  UPDATE orders SET state = changed.state
  FROM ${changedOrders.sql}
  WHERE orders.order_id = changed.order_id
  RETURNING 1
), inserted_milestones AS (${insertMilestonesSql}
  RETURNING 1
), updated_milestones AS (${updateMilestonesSql}
), upserted_payments AS (
  INSERT INTO payments (gateway, gateway_reference, event_id, order_id, milestone_id, kind, currency,
    amount_minor, confirmed_at, payload_hash, status, applied_minor, refunded_minor,
    ledger_transaction_id, applied_at)
  SELECT * FROM ${paymentRows.sql}
  ON CONFLICT (gateway, gateway_reference) DO UPDATE SET
    ${paymentMergeColumns.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
  RETURNING 1
), inserted_kept AS (
  INSERT INTO kept_events (order_id, dedupe_key, topic, command, replayed_at, awaiting)
  SELECT * FROM ${keptEvents.sql}
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING 1
), rekept AS (
  UPDATE kept_events SET awaiting = again.awaiting
  FROM ${rekeptEvents.sql}
  WHERE kept_events.kept_id = again.kept_id
  RETURNING 1
), replayed_kept AS (
  UPDATE kept_events SET replayed_at = ?::timestamptz WHERE kept_id = ANY(?::bigint[])
  RETURNING 1
), failed_kept AS (
  UPDATE kept_events SET failed_reason = failure.reason
  FROM ${failedKeptEvents.sql}
  WHERE kept_events.kept_id = failure.kept_id
  RETURNING 1
), inserted_outbox AS (${insertOutboxSql}
  RETURNING 1
), inserted_disbursements AS (${insertDisbursementsSql}
  RETURNING 1
), settled_disbursements AS (${settleDisbursementsSql}
  RETURNING 1
), inserted_chargebacks AS (${insertChargebacksSql}
  RETURNING 1
), updated_chargebacks AS (${updateChargebacksSql}
  RETURNING 1
)
SELECT (SELECT json_agg(json_build_array(order_id, milestone_id)) FROM updated_milestones) AS updated,
       (SELECT count(*) FROM (SELECT pg_notify('escrow_outbox', '')
          FROM (SELECT 1 FROM inserted_outbox LIMIT 1) one) notified) AS notified,
       (SELECT count(*) FROM inserted_inbox) + (SELECT count(*) FROM updated_inbox)
         + (SELECT count(*) FROM inserted_orders) + (SELECT count(*) FROM updated_orders)
         + (SELECT count(*) FROM inserted_milestones) + (SELECT count(*) FROM upserted_payments)
         + (SELECT count(*) FROM inserted_kept) + (SELECT count(*) FROM replayed_kept)
         + (SELECT count(*) FROM failed_kept)
         AS written,
       (SELECT count(*) FROM settled_disbursements)::int AS settled,
       (SELECT count(*) FROM updated_chargebacks)::int AS chargebacks_updated`;

/** Writes them; a milestone whose version moved since it was read is a VersionConflict (retried). */
export async function writeBatch(trx: Knex.Transaction, writes: BatchWrites): Promise<void> {
  const milestones = milestoneRecords(writes.milestones);
  const {
    rows: [result],
  } = await prepared<{
    rows: { updated: [string, string][] | null; settled: number; chargebacks_updated: number }[];
  }>(trx, 'batch_write', sql, [
    newInbox.json(writes.inbox),
    replayedVerdicts.json(writes.replayedVerdicts),
    openedOrders.json(
      writes.opened.map(({ order, eventId, occurredAt }) =>
        Object.assign(fromOrder(order), { opened_event_id: eventId, opened_at: occurredAt }),
      ),
    ),
    changedOrders.json(
      writes.changedOrders.map((order) => ({ order_id: order.orderId, state: order.state })),
    ),
    milestones.created,
    milestones.updated,
    paymentRows.json(writes.payments),
    keptEvents.json(writes.keptRows),
    rekeptEvents.json(writes.rekept),
    writes.now,
    [...writes.replayedKeptIds],
    failedKeptEvents.json(writes.failedKept),
    outboxRecordset.json(writes.outbox),
    disbursementRecordset.json(writes.disbursements),
    writes.now,
    settledRecordset.json(writes.settled),
    createdChargebackRows.json(writes.createdChargebacks),
    changedChargebackRows.json(writes.changedChargebacks),
  ]);
  // Read under the orders' locks, so only a change outside the pipeline (an
  // operator's retry, a concurrent writer bypassing the locks) can make this short.
  if (result!.settled !== writes.settled.length)
    throw new SettlementConflict(
      `a payout or refund changed while the slice decided on it ` +
        `(${result!.settled}/${writes.settled.length} settled)`,
    );
  // Chargebacks are read without a lock (a provider's receivables are shared
  // by all of its orders' lanes): one netted or reversed by another
  // transaction since the load fails its update's guard, and the slice is
  // decided again.
  if (result!.chargebacks_updated !== writes.changedChargebacks.length)
    throw new ChargebackMoved(writes.changedChargebacks.length - result!.chargebacks_updated);
  assertAllUpdated(
    milestones.changed,
    (result?.updated ?? []).map(([order_id, milestone_id]) => ({ order_id, milestone_id })),
  );
}
