/**
 * The database floor's milestone writes for one batch: each milestone the
 * batch touched is written once, in its state at the end of the batch (as a
 * batching worker would), new ones inserted in one statement and changed
 * ones updated in one statement under the worker's version guard (the
 * version read before the batch must still be there).
 */
import type { Knex } from 'knex';
import type { Milestone } from '../domain/escrow';
import { fromMilestone } from '../store/order-rows';
import type { FloorEvent } from './db-floor-model';

/**
 * Column arrays for unnest: pg sends each as an SQL array, nulls included;
 * Knex's types only know flat values.
 */
export const columnsOf = (...columns: unknown[][]) =>
  columns as unknown as readonly Knex.RawBinding[];

type Column = keyof ReturnType<typeof fromMilestone>;

/** Every column the pipeline writes, with its SQL type for unnest. */
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

/** Writes the batch's milestones; returns how many rows it wrote. */
export async function writeMilestones(
  trx: Knex.Transaction,
  events: readonly FloorEvent[],
): Promise<number> {
  const latest = new Map<string, { milestone: Milestone; readVersion: number | null }>();
  for (const { milestone, readVersion } of events.flatMap((e) => e.milestones)) {
    const key = `${milestone.orderId}\u0000${milestone.milestoneId}`;
    // The version read before the batch is the first one seen; the state is the last.
    const first = latest.get(key);
    latest.set(key, { milestone, readVersion: first ? first.readVersion : readVersion });
  }
  const all = [...latest.values()];
  const created = all.filter((m) => m.readVersion === null);
  const changed = all.filter((m) => m.readVersion !== null);
  if (created.length > 0) {
    await trx('milestones').insert(
      created.map(({ milestone: m }) => ({
        ...fromMilestone(m),
        order_id: m.orderId,
        milestone_id: m.milestoneId,
      })),
    );
  }
  if (changed.length > 0) {
    const rows = changed.map(({ milestone: m }) => fromMilestone(m) as Record<Column, unknown>);
    const result = await trx.raw<{ rowCount: number }>(
      `UPDATE milestones m SET ${columns.map((c) => `${c} = v.${c}`).join(', ')}, updated_at = now()
       FROM unnest(?::text[], ?::text[], ?::integer[], ${columns.map((c) => `?::${columnTypes[c]}[]`).join(', ')})
         AS v(order_id, milestone_id, read_version, ${columns.join(', ')})
       WHERE m.order_id = v.order_id AND m.milestone_id = v.milestone_id AND m.version = v.read_version`,
      columnsOf(
        changed.map(({ milestone }) => milestone.orderId),
        changed.map(({ milestone }) => milestone.milestoneId),
        changed.map(({ readVersion }) => readVersion),
        ...columns.map((column) => rows.map((row) => row[column])),
      ),
    );
    if (result.rowCount !== changed.length) {
      throw new Error(
        `the database floor updated ${result.rowCount} of ${changed.length} milestones: a version ` +
          'guard failed, so its model and the database disagree (a defect in src/bench/db-floor-model.ts)',
      );
    }
  }
  return all.length;
}
