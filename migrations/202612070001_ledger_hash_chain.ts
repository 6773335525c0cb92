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
 * order, by the same function the worker uses: the append-only trigger of
 * ledger_transactions is disabled for exactly that UPDATE and enabled again
 * in this same transaction (an owner-only, one-time step; the worker's role
 * cannot disable triggers). hash and previous_hash are then NOT NULL: a
 * worker of an older version, still running during a rolling upgrade, has
 * its ledger writes refused (and retried) until it is replaced.
 */
import type { Knex } from 'knex';
import { chainGenesis, chainHash } from '../src/ledger/chain';
import { type ChainCursor, readChainPage } from '../src/ledger/chain-read';

const pageSize = 2000;

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
  await knex.raw('ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only');
  let cursor: ChainCursor | null = null;
  let head = { key: '', hash: chainGenesis, length: 0 };
  const heads: { order_id: string; hash: string; length: number }[] = [];
  for (;;) {
    const page = await readChainPage(knex, cursor, pageSize);
    if (page.length === 0) break;
    const links: { id: string; previous_hash: string; hash: string }[] = [];
    for (const link of page) {
      if (link.chainKey !== head.key || head.length === 0) {
        if (head.length > 0)
          heads.push({ order_id: head.key, hash: head.hash, length: head.length });
        head = { key: link.chainKey, hash: chainGenesis, length: 0 };
      }
      const hash = chainHash(head.hash, link);
      links.push({ id: link.transactionId, previous_hash: head.hash, hash });
      head = { key: link.chainKey, hash, length: head.length + 1 };
    }
    await knex.raw(
      `UPDATE ledger_transactions t SET previous_hash = link.previous_hash, hash = link.hash
       FROM jsonb_to_recordset(?::jsonb) AS link(id bigint, previous_hash text, hash text)
       WHERE t.transaction_id = link.id`,
      [JSON.stringify(links)],
    );
    await insertHeads(knex, heads.splice(0));
    const last = page[page.length - 1]!;
    cursor = { chainKey: last.chainKey, transactionId: last.transactionId };
  }
  if (head.length > 0) heads.push({ order_id: head.key, hash: head.hash, length: head.length });
  await insertHeads(knex, heads);
  await knex.raw('ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only');
  await knex.raw(`
    ALTER TABLE ledger_transactions
      ALTER COLUMN previous_hash SET NOT NULL,
      ALTER COLUMN hash SET NOT NULL,
      ADD CONSTRAINT ledger_transactions_hash_hex CHECK (hash ~ '^[0-9a-f]{64}$'),
      ADD CONSTRAINT ledger_transactions_previous_hash_hex
        CHECK (previous_hash = '' OR previous_hash ~ '^[0-9a-f]{64}$');
  `);
}

async function insertHeads(
  knex: Knex,
  heads: readonly { order_id: string; hash: string; length: number }[],
): Promise<void> {
  if (heads.length === 0) return;
  await knex.raw(
    `INSERT INTO ledger_chain_heads (order_id, hash, length)
     SELECT order_id, hash, length FROM jsonb_to_recordset(?::jsonb)
       AS head(order_id text, hash text, length bigint)`,
    [JSON.stringify(heads)],
  );
}
