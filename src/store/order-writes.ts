/**
 * Set-based reads and writes of orders and milestones for a batch of events:
 * whatever the batch's size, its orders are locked in one statement and read
 * in two. Each milestone is written once, in its state at the end of the
 * batch, under the version guard of the version it was read at (see
 * orders.ts: a lost race is a VersionConflict, retried); the batch path
 * writes them within src/pipeline/batch-write.ts, the database floor with
 * writeMilestones.
 */
import type { Knex } from 'knex';
import { compareCodePoints } from '../domain/text/code-point-order';
import { type MilestoneChange, milestoneKey } from './milestone-changes';
import { prepared, Recordset } from '../db/columns';
import { keyedPlansSql } from '../db/keyed-plans';
import { milestoneRow, type MilestoneRow, type OrderRow, toMilestone, toOrder } from './order-rows';
import { type StoredOrder, VersionConflict } from './orders';

/**
 * Takes the orders' advisory locks (`pg_advisory_xact_lock` on the order id, which also covers an order not created yet) in
 * code-point order, so two batches that share orders queue instead of
 * deadlocking, then reads and row-locks the orders and their milestones.
 */
export async function lockAndLoadOrders(
  trx: Knex.Transaction,
  orderIds: readonly string[],
): Promise<Map<string, StoredOrder>> {
  const sorted = [...new Set(orderIds)].sort(compareCodePoints);
  await prepared(
    trx,
    'batch_order_locks',
    // First in the pipeline's transactions: it also sets the planner for the statements
    // after it (keyed-plans.ts).
    `SELECT count(pg_advisory_xact_lock(hashtextextended(id, 0))), ${keyedPlansSql} AS planner
     FROM (SELECT id FROM unnest(?::text[]) WITH ORDINALITY AS listed(id, position)
           ORDER BY position) ids`,
    [sorted],
  );
  const { rows: orders } = await prepared<{ rows: OrderRow[] }>(
    trx,
    'batch_orders',
    // Named columns, not *: a prepared statement's result must not change shape under a migration.
    `SELECT order_id, buyer_id, provider_id, currency, state FROM orders
     WHERE order_id = ANY(?::text[]) ORDER BY order_id COLLATE "C" FOR UPDATE`,
    [sorted],
  );
  const { rows: milestones } = await prepared<{ rows: MilestoneRow[] }>(
    trx,
    'batch_milestones',
    `SELECT order_id, milestone_id, ${columns.join(', ')} FROM milestones WHERE order_id = ANY(?::text[])
     ORDER BY order_id COLLATE "C", milestone_id COLLATE "C" FOR UPDATE`,
    [sorted],
  );
  const stored = new Map<string, StoredOrder>(
    sorted.map((id) => [id, { order: null, milestones: [] }]),
  );
  for (const row of orders) stored.set(row.order_id, { order: toOrder(row), milestones: [] });
  for (const row of milestones) stored.get(row.order_id)!.milestones.push(toMilestone(row));
  return stored;
}

type Column = Exclude<keyof MilestoneRow, 'order_id' | 'milestone_id'>;

/** Every column the pipeline writes, with its SQL type in a recordset. */
const columnTypes: Record<Column, string> = {
  sequence: 'integer',
  currency: 'text',
  original_amount_minor: 'bigint',
  amount_minor: 'bigint',
  release_condition: 'text',
  inspection_period_seconds: 'integer',
  state: 'text',
  version: 'integer',
  funded_minor: 'bigint',
  held_minor: 'bigint',
  disputed_minor: 'bigint',
  released_minor: 'bigint',
  fees_minor: 'bigint',
  refunded_minor: 'bigint',
  reached: 'boolean',
  reached_condition: 'text',
  final_amount_minor: 'bigint',
  inspection_deadline: 'timestamptz',
  inspection_remaining_ms: 'bigint',
  dispute_id: 'text',
};
const columns = Object.keys(columnTypes) as Column[];
const recordColumns = columns.map((c) => `${c} ${columnTypes[c]}`).join(', ');
type MilestoneRecord = ReturnType<typeof milestoneRow>;
const createdMilestones = new Recordset<MilestoneRecord>(
  'created',
  `order_id text, milestone_id text, ${recordColumns}`,
);
const changedMilestones = new Recordset<MilestoneRecord>(
  'changed',
  `order_id text, milestone_id text, read_version integer, ${recordColumns}`,
);

/** Inserts the milestones of its one jsonb parameter (see milestoneRecords). */
export const insertMilestonesSql = `
  INSERT INTO milestones (order_id, milestone_id, ${columns.join(', ')})
  SELECT * FROM ${createdMilestones.sql}`;

/**
 * Updates the milestones of its one jsonb parameter under the guard
 * `version = <read version>`, returning the ones it updated.
 */
export const updateMilestonesSql = `
  UPDATE milestones
  SET ${columns.map((column) => `${column} = changed.${column}`).join(', ')}, updated_at = now()
  FROM ${changedMilestones.sql}
  WHERE milestones.order_id = changed.order_id AND milestones.milestone_id = changed.milestone_id
    AND milestones.version = changed.read_version
  RETURNING milestones.order_id, milestones.milestone_id`;

/**
 * The parameters of the two statements above for one entry per milestone (its
 * last state, its first read): new ones to insert, changed ones to update.
 */
export function milestoneRecords(changes: readonly MilestoneChange[]) {
  const changed = changes.filter((m) => m.readVersion !== null);
  const created = createdMilestones.json(
    changes
      .filter((m) => m.readVersion === null)
      .map(({ milestone }) => milestoneRow(milestone, null)),
  );
  const updated = changedMilestones.json(
    changed.map(({ milestone, readVersion }) => milestoneRow(milestone, readVersion)),
  );
  return { changed, created, updated };
}

/** Throws a VersionConflict for a changed milestone the guarded update did not write. */
export function assertAllUpdated(
  changed: readonly MilestoneChange[],
  updated: readonly { order_id: string; milestone_id: string }[],
): void {
  if (updated.length === changed.length) return;
  const written = new Set(updated.map((row) => milestoneKey(row.order_id, row.milestone_id)));
  const lost = changed.find(
    ({ milestone: m }) => !written.has(milestoneKey(m.orderId, m.milestoneId)),
  )!;
  throw new VersionConflict(lost.milestone.orderId, lost.milestone.milestoneId, lost.readVersion!);
}

/**
 * Writes each milestone once: new ones inserted in one statement, changed ones
 * updated in one statement under the version guard (the database floor's
 * writes; the batch path runs the same statements inside src/pipeline/batch-write.ts).
 * `changes` must hold one entry per milestone (its last state, its first read).
 */
export async function writeMilestones(
  trx: Knex.Transaction,
  changes: readonly MilestoneChange[],
): Promise<void> {
  const { changed, created, updated } = milestoneRecords(changes);
  if (changed.length < changes.length)
    await prepared(trx, 'milestones_insert', insertMilestonesSql, [created]);
  if (changed.length === 0) return;
  const { rows } = await prepared<{ rows: { order_id: string; milestone_id: string }[] }>(
    trx,
    'milestones_update',
    updateMilestonesSql,
    [updated],
  );
  assertAllUpdated(changed, rows);
}
