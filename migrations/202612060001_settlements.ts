/**
 * Why: the money loop closes (CONTRACT.md, escrow.settlements.v1). A payout
 * or refund that escrow-worker asks for is recorded as a disbursement, so a
 * settlement can find it by its outcomeId long after the outbox row is
 * pruned, settle it at most once, and an operator can ask for a failed one
 * again; the partial unique index is the database's own guard that one
 * release never has two open requests (two operators retrying at once: the
 * second insert fails). A chargeback records where its money came from, so
 * its reversal undoes exactly that and a provider's later releases net its
 * receivable (recovered_minor, never more than the receivable). Kept events
 * may now wait for a payment (a chargeback that arrives before the payment
 * it names) instead of only for their order. The provider receivable account
 * is owed to the platform, so its balance runs at or below zero.
 */
import type { Knex } from 'knex';
import { disbursementRow } from '../src/store/disbursements';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
    ALTER TABLE accounts DROP CONSTRAINT accounts_check;
    ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('GATEWAY_CLEARING',
      'ESCROW_HOLD', 'DISPUTED_FUNDS', 'PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE',
      'PROVIDER_RECEIVABLE', 'PLATFORM_REVENUE'));
    ALTER TABLE accounts ADD CONSTRAINT accounts_balance_floor CHECK (CASE kind
      WHEN 'GATEWAY_CLEARING' THEN true
      WHEN 'PROVIDER_RECEIVABLE' THEN balance_minor <= 0
      ELSE balance_minor >= 0 END);

    CREATE TABLE disbursements (
      outcome_id            uuid PRIMARY KEY,
      kind                  text NOT NULL CHECK (kind IN ('PAYOUT', 'REFUND')),
      order_id              text NOT NULL REFERENCES orders (order_id),
      milestone_id          text,
      -- The provider paid or the buyer refunded.
      party_id              text NOT NULL,
      currency              char(3) NOT NULL,
      -- What is to leave the platform: a payout's net, a refund's amount.
      amount_minor          bigint NOT NULL CHECK (amount_minor > 0),
      -- Payouts: gross = fee + recovered + amount (the receivable netted first).
      gross_minor           bigint,
      fee_minor             bigint,
      recovered_minor       bigint,
      refund_reason         text,
      ledger_transaction_id bigint,
      -- The first request for this money; a retry is a new row with the same root.
      root_outcome_id       uuid NOT NULL,
      retry_of              uuid REFERENCES disbursements (outcome_id),
      state                 text NOT NULL CHECK (state IN ('REQUESTED', 'PAID', 'FAILED', 'RETRIED')),
      failure_reason        text,
      settlement_gateway    text,
      settlement_reference  text,
      settlement_event_id   text,
      requested_at          timestamptz NOT NULL,
      settled_at            timestamptz,
      CHECK (kind = 'REFUND' OR gross_minor = fee_minor + recovered_minor + amount_minor),
      CHECK ((state IN ('PAID', 'FAILED', 'RETRIED')) = (settled_at IS NOT NULL)),
      CHECK ((state = 'FAILED' OR state = 'RETRIED') = (failure_reason IS NOT NULL))
    );
    -- One open request (asked and not settled, or failed and not asked again) per money.
    CREATE UNIQUE INDEX disbursements_one_open ON disbursements (root_outcome_id)
      WHERE state IN ('REQUESTED', 'FAILED');
    CREATE INDEX disbursements_by_order ON disbursements (order_id);
    CREATE INDEX disbursements_by_party ON disbursements (party_id, currency);
    CREATE INDEX disbursements_unsettled ON disbursements (requested_at)
      WHERE state IN ('REQUESTED', 'FAILED');

    CREATE TABLE chargebacks (
      chargeback_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- The payment pulled back: one chargeback per payment.
      gateway                text NOT NULL,
      gateway_reference      text NOT NULL,
      order_id               text NOT NULL REFERENCES orders (order_id),
      milestone_id           text,
      provider_id            text NOT NULL,
      buyer_id               text NOT NULL,
      currency               char(3) NOT NULL,
      amount_minor           bigint NOT NULL CHECK (amount_minor > 0),
      from_held_minor        bigint NOT NULL CHECK (from_held_minor >= 0),
      from_disputed_minor    bigint NOT NULL CHECK (from_disputed_minor >= 0),
      fee_reversed_minor     bigint NOT NULL CHECK (fee_reversed_minor >= 0),
      receivable_minor       bigint NOT NULL CHECK (receivable_minor >= 0),
      from_platform_minor    bigint NOT NULL CHECK (from_platform_minor >= 0),
      recovered_minor        bigint NOT NULL DEFAULT 0,
      reversed               boolean NOT NULL DEFAULT false,
      event_id               text NOT NULL,
      ledger_transaction_id  bigint,
      reversal_event_id      text,
      reversal_ledger_transaction_id bigint,
      charged_back_at        timestamptz NOT NULL,
      reversed_at            timestamptz,
      UNIQUE (gateway, gateway_reference),
      CHECK (from_held_minor + from_disputed_minor + fee_reversed_minor + receivable_minor
        + from_platform_minor = amount_minor),
      CHECK (recovered_minor BETWEEN 0 AND receivable_minor),
      CHECK (reversed = (reversed_at IS NOT NULL))
    );
    CREATE INDEX chargebacks_by_order ON chargebacks (order_id);
    -- What later releases net: a provider's receivables still to recover.
    CREATE INDEX chargebacks_outstanding ON chargebacks (provider_id, currency, chargeback_id)
      WHERE recovered_minor < receivable_minor AND NOT reversed;

    -- NULL: waits for its order (as before); otherwise the inbox key of the payment it waits for,
    -- or "outcome:<id>" for a settlement naming an outcome not known.
    ALTER TABLE kept_events ADD COLUMN awaiting text;
    CREATE INDEX kept_events_awaiting ON kept_events (awaiting) WHERE replayed_at IS NULL AND awaiting IS NOT NULL;
  `);
  await recordEarlierRequests(knex);
}

/**
 * The payouts and refunds asked for before this migration, from the outbox
 * rows that still hold them, become REQUESTED disbursements (their amounts
 * read as the worker reads them), so a settlement of one finds its request
 * and the payable it sits in is explained. A request whose outbox row the
 * relay already pruned (published more than 7 days ago) cannot be rebuilt:
 * reconciliation's payables_match_open_requests lists what it left payable.
 */
async function recordEarlierRequests(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{
    rows: {
      outcome_id: string;
      type: string;
      payload: Record<string, unknown>;
      created_at: Date;
    }[];
  }>(
    `SELECT outcome_id, type, payload, created_at FROM outbox
     WHERE type IN ('PAYOUT_REQUESTED', 'REFUND_REQUESTED') ORDER BY outbox_id`,
  );
  for (let start = 0; start < rows.length; start += 1000) {
    const page = rows
      .slice(start, start + 1000)
      .map((row) => disbursementRow(row, row.created_at))
      .filter((row) => row !== null);
    await knex.raw(
      `INSERT INTO disbursements (outcome_id, kind, order_id, milestone_id, party_id, currency,
         amount_minor, gross_minor, fee_minor, recovered_minor, refund_reason,
         ledger_transaction_id, root_outcome_id, retry_of, state, requested_at)
       SELECT outcome_id, kind, order_id, milestone_id, party_id, currency, amount_minor,
         gross_minor, fee_minor, recovered_minor, refund_reason, ledger_transaction_id,
         root_outcome_id, retry_of, 'REQUESTED', requested_at
       FROM jsonb_to_recordset(?::jsonb) AS request(outcome_id uuid, kind text, order_id text,
         milestone_id text, party_id text, currency text, amount_minor bigint, gross_minor bigint,
         fee_minor bigint, recovered_minor bigint, refund_reason text, ledger_transaction_id bigint,
         root_outcome_id uuid, retry_of uuid, requested_at timestamptz)
       ON CONFLICT (outcome_id) DO NOTHING`,
      [JSON.stringify(page)],
    );
  }
}
