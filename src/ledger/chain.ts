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
 * back in does not matter).
 */
import { createHash } from 'node:crypto';
import { compareCodePoints } from '../domain/text/code-point-order';

/** The canonical text's version: a new content rule is a new version, never an edit. */
const contentVersion = 'v1';

/** The previous hash of an order's first transaction. */
export const chainGenesis = '';

/** A ledger transaction's hashed content, every value as the text Postgres returns. */
export interface ChainedTransaction {
  readonly transactionId: string;
  readonly kind: string;
  readonly orderId: string | null;
  readonly milestoneId: string | null;
  readonly causeEventId: string;
  readonly causeTopic: string;
  readonly correctsTransactionId: string | null;
  readonly memo: unknown;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (chainTimestampSql). */
  readonly createdAt: string;
  readonly entries: readonly ChainedEntry[];
}

export interface ChainedEntry {
  readonly accountId: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly balanceAfterMinor: string | null;
  readonly accountVersion: string | null;
}

/** The creation time as the chain hashes it: UTC, microseconds, the same text on every read. */
export const chainTimestampSql = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * JSON with every object's keys sorted: one text for one value, however it was
 * stored. A draft's memo (strings, numbers, booleans, null) and the same memo
 * read back from jsonb give the same text: JSON.stringify writes -0 as 0 and
 * a number jsonb cannot hold as null, as the round trip through jsonb does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareCodePoints);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

function canonicalContent(transaction: ChainedTransaction): string {
  const entries = transaction.entries
    .map((entry) =>
      JSON.stringify([
        entry.accountId,
        entry.currency,
        entry.amountMinor,
        entry.balanceAfterMinor,
        entry.accountVersion,
      ]),
    )
    .sort(compareCodePoints);
  return [
    contentVersion,
    JSON.stringify([
      transaction.transactionId,
      transaction.kind,
      transaction.orderId,
      transaction.milestoneId,
      transaction.causeEventId,
      transaction.causeTopic,
      transaction.correctsTransactionId,
      transaction.createdAt,
    ]),
    canonicalJson(transaction.memo),
    `[${entries.join(',')}]`,
  ].join('\n');
}

/** The transaction's hash: SHA-256 (hex) of the previous hash and its canonical content. */
export function chainHash(previousHash: string, transaction: ChainedTransaction): string {
  return createHash('sha256')
    .update(previousHash)
    .update('\n')
    .update(canonicalContent(transaction))
    .digest('hex');
}

/** An order's chain key: its id (a transaction without one, which the worker never writes, chains under ''). */
export const chainKey = (orderId: string | null) => orderId ?? '';
