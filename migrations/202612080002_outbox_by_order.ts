/**
 * Why: an order's timeline (GET /orders/{orderId}/timeline) lists the
 * outcomes published for it, and the outbox is keyed by order
 * (message_key is the orderId every outcome is published under) but had no
 * index on it, so each request read the whole table. The outbox holds
 * seven days of outcomes at most (the relay prunes older published rows),
 * so the index stays as small as the table; it costs each outcome one more
 * index entry on insert.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX outbox_by_order ON outbox (message_key, outbox_id);`);
}
