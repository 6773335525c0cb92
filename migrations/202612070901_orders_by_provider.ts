/**
 * Why: GET /providers/{providerId} (src/views/provider-view.ts) finds a
 * provider by its orders: whether any order names it (else 404), the
 * currencies it is paid in, and, for ?asOf=, whether it had an order by then
 * (created_at). Without this index each request read every order. With it
 * the view reads the provider's own rows only, index-only once vacuumed.
 * Built in the migration's transaction like every other: orders gets one
 * insert per order, so the build holds back new orders only while it runs.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX orders_by_provider ON orders (provider_id, currency, created_at);
  `);
}
