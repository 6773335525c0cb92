/**
 * The ledger's hash chain: every ledger transaction carries the SHA-256 of
 * its previous transaction's hash and its own content, so a row changed
 * behind the database's back (an amount, an account, a cause, a timestamp)
 * no longer matches its hash, and a row removed from the middle breaks the
 * next one's link. There is one chain per order — the unit every writer
 * already holds a lock on — so writers of different orders never wait for
 * each other, and a chain head per order (ledger_chain_heads: the last hash
 * and the length) shows a removed tail.
 *
 * The same function hashes a transaction when it is written
 * (post-transactions.ts) and when reconciliation reads it back
 * (src/reconcile/checks/ledger-chain.ts), from the same canonical text: the
 * columns as text, the memo as JSON with sorted keys, the creation time in
 * UTC to the microsecond, and the entries sorted (so the order rows come
 * back in does not matter). chain-text.ts writes that text and hashes it.
 */
import { type ChainedTransaction, hashOfContent, textOfContent, textOfValue } from './chain-text';

export type { ChainedEntry, ChainedTransaction } from './chain-text';

/** The previous hash of an order's first transaction. */
export const chainGenesis = '';

/** The creation time as the chain hashes it: UTC, microseconds, the same text on every read. */
export const chainTimestampSql = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * JSON with every object's keys sorted: one text for one value, however it was
 * stored. A draft's memo (strings, numbers, booleans, null) and the same memo
 * read back from jsonb give the same text: JSON.stringify writes -0 as 0 and
 * a number jsonb cannot hold as null, as the round trip through jsonb does.
 */
export const canonicalJson = (value: unknown): string => textOfValue(value);

/**
 * The text the chain hashes: the version, the columns, the memo and the
 * entries, a line each. Exported for chain.property.test.ts, which compares
 * it with the old implementation's; the worker only hashes it.
 */
export const canonicalContent = (transaction: ChainedTransaction): string =>
  textOfContent(transaction);

/** The transaction's hash: SHA-256 (hex) of the previous hash and its canonical content. */
export const chainHash = (previousHash: string, transaction: ChainedTransaction): string =>
  hashOfContent(previousHash, transaction);

/** An order's chain key: its id (a transaction without one, which the worker never writes, chains under ''). */
export const chainKey = (orderId: string | null) => orderId ?? '';
