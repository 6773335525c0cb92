/** Reading an order as stored, in tests: no lock, so a test can play a racing writer. */
import type { Knex } from 'knex';
import { type MilestoneRow, type OrderRow, toMilestone, toOrder } from '../../src/store/order-rows';
import type { StoredOrder } from '../../src/store/orders';

/** The order and milestones as stored, read without a lock (what a racing writer may see). */
export async function readStored(
  db: Knex | Knex.Transaction,
  orderId: string,
): Promise<StoredOrder> {
  const order = await db<OrderRow>('orders').where({ order_id: orderId }).first();
  const milestones = await db<MilestoneRow>('milestones')
    .where({ order_id: orderId })
    .orderByRaw('milestone_id COLLATE "C"');
  return { order: order ? toOrder(order) : null, milestones: milestones.map(toMilestone) };
}
