/**
 * Why: fees are computed at release from the policy in force at that moment
 * (CONTRACT.md, "Fees"), so policies are effective-dated versions, never
 * edited in place. Without any row the default policy applies: a flat
 * PLATFORM_FEE_RATE. `releases` is the read model for volume tiers: the
 * provider's released gross over a trailing window, per currency.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE fee_policies (
      policy_id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      effective_from     timestamptz NOT NULL UNIQUE,
      rate               numeric(9, 8) NOT NULL CHECK (rate >= 0 AND rate < 1),
      -- Per currency, major-unit decimal strings: {"USD": "1.00"}.
      minimum_fees       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(minimum_fees) = 'object'),
      -- [{"minVolume": "10000.00", "rate": "0.08"}]: volume in the release's currency.
      volume_tiers       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(volume_tiers) = 'array'),
      volume_window_days integer NOT NULL DEFAULT 30 CHECK (volume_window_days > 0),
      -- Charged on the provider's part when a dispute is resolved: {"USD": "15.00"}.
      dispute_fees       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(dispute_fees) = 'object'),
      note               text,
      created_at         timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE releases (
      transaction_id bigint PRIMARY KEY REFERENCES ledger_transactions (transaction_id),
      provider_id    text NOT NULL,
      currency       char(3) NOT NULL,
      gross_minor    bigint NOT NULL CHECK (gross_minor > 0),
      fee_minor      bigint NOT NULL CHECK (fee_minor >= 0 AND fee_minor <= gross_minor),
      released_at    timestamptz NOT NULL
    );
    CREATE INDEX releases_provider_volume ON releases (provider_id, currency, released_at);
  `);
}
