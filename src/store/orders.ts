/**
 * Reads an order with its milestones inside a transaction, and writes a
 * decision's changes back guarded by the version each milestone was read at:
 * `UPDATE ... WHERE version = <read version>`. A writer that lost a race finds
 * no row to update and gets a VersionConflict (retryable: run the decision
 * again on what is stored now). This guard, not the Redis lock, is what makes
 * two commands on one milestone take effect at most once.
 */
import type { Knex } from 'knex';
import type { Decision, Milestone, Order } from '../domain/escrow';
import {
  fromMilestone,
  fromOrder,
  type MilestoneRow,
  type OrderRow,
  toMilestone,
  toOrder,
} from './order-rows';

export class VersionConflict extends Error {
  readonly code = 'VERSION_CONFLICT';
  readonly retryable = true;
  constructor(
    readonly orderId: string,
    readonly milestoneId: string,
    readonly readVersion: number,
  ) {
    super(
      `milestone ${orderId}/${milestoneId} changed after it was read at version ${readVersion}; ` +
        'the command is decided again on the stored state',
    );
    this.name = 'VersionConflict';
  }
}

export interface StoredOrder {
  order: Order | null;
  milestones: Milestone[];
}

/**
 * Loads the order and its milestones. With `lock`, every command on one order
 * is serialized: a transaction-scoped advisory lock on the order id covers an
 * order not created yet (a kept payment racing its ORDER_OPENED), then the
 * order row and its milestone rows are locked in a fixed order (order, then
 * milestones by id), the same for every writer.
 */
export async function loadOrder(
  db: Knex | Knex.Transaction,
  orderId: string,
  options: { lock: boolean } = { lock: false },
): Promise<StoredOrder> {
  if (options.lock) await lockOrderKey(db, orderId);
  const orderQuery = db<OrderRow>('orders').where({ order_id: orderId }).first();
  const orderRow = options.lock ? await orderQuery.forUpdate() : await orderQuery;
  if (!orderRow) return { order: null, milestones: [] };
  const query = db<MilestoneRow>('milestones')
    .where({ order_id: orderId })
    .orderByRaw('milestone_id COLLATE "C"');
  const rows = options.lock ? await query.forUpdate() : await query;
  return { order: toOrder(orderRow), milestones: rows.map(toMilestone) };
}

/**
 * Serializes, until the transaction ends, every writer of one order: decisions
 * and anything else that writes the order's outcomes (their outbox ids must
 * rise in commit order, which the relay's per-key order relies on).
 */
export async function lockOrderKey(db: Knex | Knex.Transaction, orderId: string): Promise<void> {
  await db.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [orderId]);
}

/** Writes the order and milestones a decision changed; `read` is what the decision saw. */
export async function saveDecision(
  trx: Knex.Transaction,
  decision: Decision,
  read: StoredOrder,
  cause: { eventId: string; occurredAt: Date },
): Promise<void> {
  if (decision.order) {
    if (read.order === null) {
      await trx('orders').insert({
        ...fromOrder(decision.order),
        opened_event_id: cause.eventId,
        opened_at: cause.occurredAt,
      });
    } else {
      await trx('orders')
        .where({ order_id: decision.order.orderId })
        .update({ state: decision.order.state });
    }
  }
  const readVersions = new Map(read.milestones.map((m) => [m.milestoneId, m.version]));
  for (const milestone of decision.milestones) {
    const readVersion = readVersions.get(milestone.milestoneId);
    const row = fromMilestone(milestone);
    if (readVersion === undefined) {
      await trx('milestones').insert({
        ...row,
        order_id: milestone.orderId,
        milestone_id: milestone.milestoneId,
      });
      continue;
    }
    const updated = await trx('milestones')
      .where({
        order_id: milestone.orderId,
        milestone_id: milestone.milestoneId,
        version: readVersion,
      })
      .update({ ...row, updated_at: trx.fn.now() });
    if (updated !== 1)
      throw new VersionConflict(milestone.orderId, milestone.milestoneId, readVersion);
  }
}
