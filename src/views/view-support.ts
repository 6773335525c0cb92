/**
 * What the money views share: amounts as the wire writes them, the moment a
 * view reads the ledger at, and the answer for something that does not exist.
 *
 * A moment is compared with `ledger_transactions.created_at`, the start of the
 * database transaction that wrote it (Postgres' now()): a ledger transaction
 * belongs to the moment it was stamped with. The view of now reads at
 * 'infinity', so the same statement answers both.
 */
import type { Knex } from 'knex';
import { formatAmount, money } from '../domain/money';

/** Minor units (pg returns BIGINT as a string) as a major-unit decimal string. */
export const amountText = (currency: string, minor: string | bigint): string =>
  formatAmount(money(currency, BigInt(minor)));

/** The timestamptz a view's SQL reads at: asOf (UTC text), or 'infinity' for now. */
export const ledgerMoment = (asOf: string | undefined): string => asOf ?? 'infinity';

/** A view, or a sentence saying why there is none (the API answers it with 404). */
export type ViewResult<T> = { view: T } | { absent: string };

/** A count of requests and the money they carry. */
export interface CountedAmount {
  count: number;
  amount: string;
}

export const countedAmount = (
  currency: string,
  row: { count: string | number; minor: string } | undefined,
): CountedAmount => ({
  count: Number(row?.count ?? 0),
  amount: amountText(currency, row?.minor ?? '0'),
});

/**
 * Runs a view's statements on one snapshot (REPEATABLE READ, read only), so
 * figures read by different statements agree: a release committing between
 * them cannot show in the payable and not in the payouts.
 */
export const onOneSnapshot = <T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>) =>
  db.transaction(work, { isolationLevel: 'repeatable read', readOnly: true });
