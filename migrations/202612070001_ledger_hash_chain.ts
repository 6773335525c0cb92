/**
 * Why: reconciliation proved the ledger agrees with itself, but not that no
 * row was changed behind the database's back (a superuser with the
 * append-only triggers disabled, a restored backup edited by hand). Every
 * ledger transaction now carries the SHA-256 of its previous transaction's
 * hash and its own content (src/ledger/chain.ts): one chain per order, the
 * unit every writer already locks, so the chain costs no wait between
 * orders. ledger_chain_heads keeps each order's last hash and length, so a
 * removed tail shows too; `npm run reconcile` verifies it all.
 *
 * The transactions written before this migration are hashed here, in chain
 * order, by the same function the worker uses (src/ledger/chain-backfill.ts:
 * the append-only trigger of ledger_transactions is disabled for exactly
 * those UPDATEs and enabled again, in this same transaction; an owner-only,
 * one-time step, the worker's role cannot disable triggers). hash and previous_hash are then NOT NULL: a
 * worker of an older version, still running during a rolling upgrade, has
 * its ledger writes refused (and retried) until it is replaced.
 */
import type { Knex } from 'knex';
import { hashLedgerChains } from '../src/ledger/chain-backfill';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE ledger_transactions ADD COLUMN previous_hash text, ADD COLUMN hash text;
    CREATE INDEX ledger_transactions_chain
      ON ledger_transactions ((coalesce(order_id, '')) COLLATE "C", transaction_id);
    CREATE TABLE ledger_chain_heads (
      -- The order's id ('' for a transaction without one, which the worker never writes).
      order_id text PRIMARY KEY,
      hash     text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
      length   bigint NOT NULL CHECK (length > 0)
    );
  `);
  await hashLedgerChains(knex);
  await knex.raw(`
    ALTER TABLE ledger_transactions
      ALTER COLUMN previous_hash SET NOT NULL,
      ALTER COLUMN hash SET NOT NULL,
      ADD CONSTRAINT ledger_transactions_hash_hex CHECK (hash ~ '^[0-9a-f]{64}$'),
      ADD CONSTRAINT ledger_transactions_previous_hash_hex
        CHECK (previous_hash = '' OR previous_hash ~ '^[0-9a-f]{64}$');
  `);
}
