/**
 * Reads the ledger back for its hash chain, an order's chain after another's
 * (keyset pages in (order, transaction) order on ledger_transactions_chain),
 * each transaction with its entries, every value as the text the chain
 * hashes. Used by reconciliation to verify the chain and by the migration
 * that started it to hash what was written before.
 */
import type { Knex } from 'knex';
import { type ChainedTransaction, chainTimestampSql } from './chain';

export interface StoredChainLink extends ChainedTransaction {
  readonly chainKey: string;
  readonly previousHash: string | null;
  readonly hash: string | null;
  /** The order's chain head as stored (ledger_chain_heads), null when it has none. */
  readonly headHash: string | null;
  readonly headLength: string | null;
}

/** Where the next page starts: after this order's chain position. */
export interface ChainCursor {
  readonly chainKey: string;
  readonly transactionId: string;
}

interface Row {
  chain_key: string;
  transaction_id: string;
  kind: string;
  order_id: string | null;
  milestone_id: string | null;
  cause_event_id: string;
  cause_topic: string;
  corrects_transaction_id: string | null;
  memo: unknown;
  created_at: string;
  previous_hash: string | null;
  hash: string | null;
  head_hash: string | null;
  head_length: string | null;
  entries: StoredChainLink['entries'] | null;
}

export async function readChainPage(
  db: Knex | Knex.Transaction,
  after: ChainCursor | null,
  limit: number,
): Promise<StoredChainLink[]> {
  const { rows } = await db.raw<{ rows: Row[] }>(
    `SELECT coalesce(t.order_id, '') AS chain_key, t.transaction_id::text, t.kind, t.order_id,
       t.milestone_id, t.cause_event_id, t.cause_topic,
       t.corrects_transaction_id::text AS corrects_transaction_id, t.memo,
       ${chainTimestampSql('t.created_at')} AS created_at, t.previous_hash, t.hash,
       h.hash AS head_hash, h.length::text AS head_length,
       (SELECT json_agg(json_build_object('accountId', e.account_id::text,
          'currency', e.currency, 'amountMinor', e.amount_minor::text,
          'balanceAfterMinor', e.balance_after_minor::text,
          'accountVersion', e.account_version::text))
        FROM ledger_entries e WHERE e.transaction_id = t.transaction_id) AS entries
     FROM ledger_transactions t
     LEFT JOIN ledger_chain_heads h ON h.order_id = coalesce(t.order_id, '')
     WHERE (coalesce(t.order_id, '') COLLATE "C", t.transaction_id) > (?::text COLLATE "C", ?::bigint)
     ORDER BY coalesce(t.order_id, '') COLLATE "C", t.transaction_id
     LIMIT ?`,
    [after?.chainKey ?? '', after?.transactionId ?? '-1', limit],
  );
  return rows.map((row) => ({
    chainKey: row.chain_key,
    transactionId: row.transaction_id,
    kind: row.kind,
    orderId: row.order_id,
    milestoneId: row.milestone_id,
    causeEventId: row.cause_event_id,
    causeTopic: row.cause_topic,
    correctsTransactionId: row.corrects_transaction_id,
    memo: row.memo,
    createdAt: row.created_at,
    previousHash: row.previous_hash,
    hash: row.hash,
    headHash: row.head_hash,
    headLength: row.head_length,
    entries: row.entries ?? [],
  }));
}
