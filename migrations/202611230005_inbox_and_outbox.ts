/**
 * Why: the inbox makes redelivery harmless (its key is (gateway,
 * gatewayReference) for payments and eventId otherwise, with a hash of the
 * substance to spot a reused key), and the outbox makes publishing part of
 * the same database transaction as the state change it reports.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE inbox (
      -- 'payment:<gateway>:<gatewayReference>' or 'event:<eventId>'.
      dedupe_key   text PRIMARY KEY,
      event_id     text NOT NULL,
      topic        text NOT NULL,
      kafka_partition integer,
      kafka_offset bigint,
      payload_hash text NOT NULL,
      outcome      text NOT NULL
        CHECK (outcome IN ('APPLIED', 'REJECTED', 'KEPT', 'UNCHANGED', 'IDEMPOTENCY_CONFLICT')),
      reason       text,
      received_at  timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE outbox (
      outbox_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      outcome_id   uuid NOT NULL UNIQUE,
      topic        text NOT NULL,
      message_key  text NOT NULL,
      type         text NOT NULL,
      payload      jsonb NOT NULL,
      headers      jsonb NOT NULL DEFAULT '{}',
      created_at   timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    );
    CREATE INDEX outbox_unpublished ON outbox (outbox_id) WHERE published_at IS NULL;
    CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
  `);
}
