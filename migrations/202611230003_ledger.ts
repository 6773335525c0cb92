/**
 * Why: every movement of value is a double-entry ledger transaction (DESIGN.md,
 * "The ledger"). The database itself enforces what must never break:
 *  - entries and transactions are append-only: UPDATE, DELETE and TRUNCATE fail
 *    for every role, the owner included (a correction is a new transaction
 *    pointing at the one it corrects);
 *  - each transaction nets to zero per currency, checked at commit by a
 *    deferred constraint trigger;
 *  - escrow hold, disputed and payable balances never go below zero (CHECK on
 *    the account's running balance, updated in the same transaction as its
 *    entries; each entry records the balance after it and the account version).
 * Gateway clearing and platform revenue have no floor and are touched by
 * nearly every transaction; keeping a running balance on them would serialize
 * all writers on two rows, so their balance is the sum of their entries and
 * their entries carry no balance_after/account_version.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE accounts (
      account_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- Readable and unique, e.g. ESCROW_HOLD:USD:order-1:m-1 or PLATFORM_REVENUE:USD.
      code          text NOT NULL UNIQUE,
      kind          text NOT NULL CHECK (kind IN ('GATEWAY_CLEARING', 'ESCROW_HOLD', 'DISPUTED_FUNDS',
                      'PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE', 'PLATFORM_REVENUE')),
      currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      order_id      text,
      milestone_id  text,
      party_id      text,
      -- Running balance and version: maintained only for accounts with a floor.
      balance_minor bigint NOT NULL DEFAULT 0,
      version       bigint NOT NULL DEFAULT 0,
      maintains_balance boolean GENERATED ALWAYS AS
        (kind NOT IN ('GATEWAY_CLEARING', 'PLATFORM_REVENUE')) STORED,
      created_at    timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, currency),
      -- Money received through a gateway is the one balance that mirrors the
      -- others (it goes negative as funds arrive); no other account may.
      CHECK (kind = 'GATEWAY_CLEARING' OR balance_minor >= 0)
    );

    CREATE TABLE ledger_transactions (
      transaction_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind                    text NOT NULL,
      order_id                text,
      milestone_id            text,
      -- The inbound event that caused it: every balance is explainable line by line.
      cause_event_id          text NOT NULL,
      cause_topic             text NOT NULL,
      corrects_transaction_id bigint REFERENCES ledger_transactions (transaction_id),
      memo                    jsonb NOT NULL DEFAULT '{}',
      created_at              timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_transactions_by_milestone ON ledger_transactions (order_id, milestone_id);
    CREATE INDEX ledger_transactions_by_cause ON ledger_transactions (cause_event_id);

    CREATE TABLE ledger_entries (
      entry_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id      bigint NOT NULL REFERENCES ledger_transactions (transaction_id),
      account_id          bigint NOT NULL,
      currency            char(3) NOT NULL,
      -- Positive adds to what the account holds, negative takes from it.
      amount_minor        bigint NOT NULL CHECK (amount_minor <> 0),
      -- Null for accounts without a running balance (see above).
      balance_after_minor bigint,
      account_version     bigint,
      FOREIGN KEY (account_id, currency) REFERENCES accounts (account_id, currency),
      -- Two writers that both read version n cannot both write version n + 1.
      UNIQUE (account_id, account_version)
    );
    CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);
    CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id);

    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING HINT = 'post a reversing transaction whose corrects_transaction_id names the one it corrects',
              ERRCODE = 'integrity_constraint_violation';
    END $$;

    CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

    CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      off record;
    BEGIN
      SELECT currency, sum(amount_minor) AS net INTO off
        FROM ledger_entries WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not net to zero in %: it is off by % minor units',
          NEW.transaction_id, off.currency, off.net
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$;

    -- Deferred to commit: a transaction's entries are inserted one statement at a time.
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
  `);
}
