/**
 * Why: events of different topics race, so a payment or a milestone event can
 * arrive before the ORDER_OPENED it refers to. It is kept here, whole, and
 * replayed in arrival order inside the transaction that opens the order; a
 * kept event is never dropped, and what stays kept is listed by
 * reconciliation.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE kept_events (
      kept_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id     text NOT NULL,
      dedupe_key   text NOT NULL UNIQUE REFERENCES inbox (dedupe_key),
      topic        text NOT NULL,
      command      jsonb NOT NULL,
      received_at  timestamptz NOT NULL DEFAULT now(),
      replayed_at  timestamptz,
      -- Set when replaying it failed for good; it stays kept for reconciliation.
      failed_reason text
    );
    CREATE INDEX kept_events_waiting ON kept_events (order_id, kept_id) WHERE replayed_at IS NULL;
  `);
}
