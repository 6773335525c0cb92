/**
 * Why: orders and their milestones are what escrow is held for. A milestone row
 * is the unit of concurrency (its `version` guards every change) and carries
 * the running totals the ledger also records, so the state machine reads one
 * row instead of summing entries; reconciliation checks the two agree.
 * Amounts are BIGINT minor units of the order's currency (ISO 4217 digits).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE orders (
      order_id        text PRIMARY KEY CHECK (length(order_id) BETWEEN 1 AND 200),
      buyer_id        text NOT NULL CHECK (length(buyer_id) BETWEEN 1 AND 200),
      provider_id     text NOT NULL CHECK (length(provider_id) BETWEEN 1 AND 200),
      currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      state           text NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'CANCELLED')),
      opened_event_id text NOT NULL,
      opened_at       timestamptz NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE milestones (
      order_id                  text NOT NULL REFERENCES orders (order_id),
      milestone_id              text NOT NULL CHECK (length(milestone_id) BETWEEN 1 AND 200),
      sequence                  integer NOT NULL CHECK (sequence >= 0),
      currency                  char(3) NOT NULL,
      -- What the buyer committed to when the order opened: kept for the audit trail.
      original_amount_minor     bigint NOT NULL CHECK (original_amount_minor > 0),
      -- What it is worth now: refunds lower it (to zero once fully refunded), a higher finalAmount raises it.
      amount_minor              bigint NOT NULL CHECK (amount_minor >= 0),
      release_condition         text NOT NULL
        CHECK (release_condition IN ('DELIVERY_CONFIRMED', 'REPORT_SUBMITTED', 'BUYER_APPROVED', 'ANY')),
      inspection_period_seconds integer NOT NULL CHECK (inspection_period_seconds >= 0),
      state                     text NOT NULL CHECK (state IN ('PENDING_FUNDING', 'PARTIALLY_FUNDED',
                                  'FUNDED', 'AWAITING_RELEASE', 'DISPUTED', 'RELEASED', 'REFUNDED', 'CANCELLED')),
      version                   integer NOT NULL DEFAULT 1 CHECK (version >= 1),
      -- Running totals, each a projection of the ledger (invariant 2 of DESIGN.md):
      -- funded = held + disputed + released + refunded; released = fees + net.
      funded_minor              bigint NOT NULL DEFAULT 0 CHECK (funded_minor >= 0),
      held_minor                bigint NOT NULL DEFAULT 0 CHECK (held_minor >= 0),
      disputed_minor            bigint NOT NULL DEFAULT 0 CHECK (disputed_minor >= 0),
      released_minor            bigint NOT NULL DEFAULT 0 CHECK (released_minor >= 0),
      fees_minor                bigint NOT NULL DEFAULT 0 CHECK (fees_minor >= 0),
      refunded_minor            bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
      reached                   boolean NOT NULL DEFAULT false,
      reached_condition         text,
      -- A finalAmount lower than held caps the release; the rest is refunded.
      final_amount_minor        bigint CHECK (final_amount_minor > 0),
      inspection_deadline       timestamptz,
      -- While disputed the inspection clock is paused; this is the time it had left.
      inspection_remaining_ms   bigint CHECK (inspection_remaining_ms >= 0),
      dispute_id                text,
      state_before_dispute      text,
      created_at                timestamptz NOT NULL DEFAULT now(),
      updated_at                timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (order_id, milestone_id),
      CHECK (funded_minor = held_minor + disputed_minor + released_minor + refunded_minor),
      CHECK (fees_minor <= released_minor)
    );

    -- The timer finds due inspection periods without scanning every milestone.
    CREATE INDEX milestones_inspection_due ON milestones (inspection_deadline)
      WHERE inspection_deadline IS NOT NULL AND state = 'AWAITING_RELEASE';
  `);
}
