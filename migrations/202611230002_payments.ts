/**
 * Why: one row per gateway transaction (ADR-0003). The unique
 * (gateway, gateway_reference) is the database's own guard against a retried
 * callback funding twice; payload_hash tells a harmless redelivery from the
 * same reference reused with a different substance. A payment for an order not
 * known yet is kept here as PENDING_ORDER and applied when the order arrives.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE payments (
      payment_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      gateway               text NOT NULL CHECK (length(gateway) BETWEEN 1 AND 100),
      gateway_reference     text NOT NULL CHECK (length(gateway_reference) BETWEEN 1 AND 200),
      event_id              text NOT NULL,
      order_id              text NOT NULL,
      milestone_id          text,
      kind                  text NOT NULL CHECK (kind IN ('DEPOSIT', 'INSTALLMENT', 'FINAL', 'SERVICE_FEE')),
      currency              char(3) NOT NULL,
      amount_minor          bigint NOT NULL CHECK (amount_minor > 0),
      confirmed_at          timestamptz NOT NULL,
      payload_hash          text NOT NULL,
      status                text NOT NULL
        CHECK (status IN ('PENDING_ORDER', 'APPLIED', 'REFUNDED')),
      -- How much went into escrow and how much was refunded as excess or mismatch.
      applied_minor         bigint NOT NULL DEFAULT 0 CHECK (applied_minor >= 0),
      refunded_minor        bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
      ledger_transaction_id bigint,
      received_at           timestamptz NOT NULL DEFAULT now(),
      applied_at            timestamptz,
      UNIQUE (gateway, gateway_reference),
      CHECK (status = 'PENDING_ORDER' OR applied_minor + refunded_minor = amount_minor)
    );
    CREATE INDEX payments_pending_by_order ON payments (order_id) WHERE status = 'PENDING_ORDER';
    CREATE INDEX payments_by_milestone ON payments (order_id, milestone_id);
  `);
}
