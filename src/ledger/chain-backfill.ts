/**
 * Hashes a ledger written without its chain (src/ledger/chain.ts), in chain
 * order, by the same function the worker uses, and records each order's head:
 * the migration that started the chain hashed the transactions written
 * before it this way, and the benchmark's preload hashes the past orders it
 * writes by SQL. The append-only trigger of ledger_transactions is disabled
 * for exactly these UPDATEs and enabled again (an owner-only step; the
 * worker's role cannot disable triggers). Every transaction is hashed again
 * from its order's genesis, so the caller runs it on a ledger that has no
 * chain heads yet.
 */
import type { Knex } from 'knex';
import { Recordset } from '../db/columns';
import { chainGenesis, chainHash } from './chain';
import { type ChainCursor, readChainPage } from './chain-read';

/** The statements' multi-row parameters (src/db/columns.ts). */
const linkRows = new Recordset<{ id: string; previous_hash: string; hash: string }>(
  'link',
  'id bigint, previous_hash text, hash text',
);
const headRows = new Recordset<{ order_id: string; hash: string; length: number }>(
  'head',
  'order_id text, hash text, length bigint',
);

export async function hashLedgerChains(
  knex: Knex,
  options: { pageSize?: number; progress?: (hashed: number) => void } = {},
): Promise<number> {
  const pageSize = options.pageSize ?? 2000;
  await knex.raw('ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only');
  let cursor: ChainCursor | null = null;
  let head = { key: '', hash: chainGenesis, length: 0 };
  let hashed = 0;
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
       FROM ${linkRows.sql}
       WHERE t.transaction_id = link.id`,
      [linkRows.json(links)],
    );
    await insertHeads(knex, heads.splice(0));
    hashed += page.length;
    options.progress?.(hashed);
    const last = page[page.length - 1]!;
    cursor = { chainKey: last.chainKey, transactionId: last.transactionId };
  }
  if (head.length > 0) heads.push({ order_id: head.key, hash: head.hash, length: head.length });
  await insertHeads(knex, heads);
  await knex.raw('ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only');
  return hashed;
}

async function insertHeads(
  knex: Knex,
  heads: readonly { order_id: string; hash: string; length: number }[],
): Promise<void> {
  if (heads.length === 0) return;
  await knex.raw(
    `INSERT INTO ledger_chain_heads (order_id, hash, length)
     SELECT order_id, hash, length FROM ${headRows.sql}`,
    [headRows.json(heads)],
  );
}
