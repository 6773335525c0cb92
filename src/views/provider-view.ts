/**
 * GET /providers/{providerId}[?asOf=…]: a provider's money per currency, and
 * their payouts with how each was settled.
 *
 *   payable           PROVIDER_PAYABLE:<cur>:<provider>: earned, not yet paid out
 *                     (the payouts requested and the failed ones are part of it)
 *   payoutsRequested  payouts asked for and not settled yet (count, net amount)
 *   paidOut           payouts the payout service reported PAID
 *   failedPayouts     payouts that FAILED and were not asked for again
 *   receivable        PROVIDER_RECEIVABLE:<cur>:<provider>: chargebacks of money
 *                     already released, still to recover from later releases;
 *                     its ledger balance runs at or below zero, shown negated
 *
 * A provider is known while some order names it; the currencies shown are its
 * orders'. At a moment before its first order it had no balances (not zero
 * ones), so that is answered like an unknown provider, naming when it began.
 *
 * Cost: the provider's orders (index orders_by_provider), two accounts per
 * currency by code, and the provider's payouts (disbursements_by_party); at a
 * past moment also the entries of those accounts (ledger_entries_by_account).
 * None of it grows with the rest of the ledger.
 */
import type { Knex } from 'knex';
import { accountCode, accounts } from '../domain/escrow';
import { type PayoutTotals, type PayoutView, payoutList, payoutTotals } from './provider-payouts';
import {
  amountText,
  type CountedAmount,
  ledgerMoment,
  onOneSnapshot,
  type ViewResult,
  countedAmount,
} from './view-support';

export interface ProviderCurrencyView {
  currency: string;
  payable: string;
  payoutsRequested: CountedAmount;
  paidOut: CountedAmount;
  failedPayouts: CountedAmount;
  receivable: string;
}

export interface ProviderView {
  providerId: string;
  /** Present when asked for: the moment the figures are of, UTC with microseconds. */
  asOf?: string;
  currencies: ProviderCurrencyView[];
  /** Newest first, at most the limit asked for. */
  payouts: PayoutView[];
  /** True when older payouts were left out of `payouts`. */
  morePayouts: boolean;
}

export interface ProviderViewOptions {
  /** UTC text; undefined for now. */
  asOf?: string;
  payoutsLimit: number;
}

// Now: the running balance the ledger service keeps under the account's lock.
// At a past moment: the sum of the account's entries stamped by then. The
// scalar subquery runs only in the branch that needs it.
const balancesSql = `
  SELECT wanted.currency, wanted.kind,
    (CASE WHEN ?::timestamptz = 'infinity' THEN coalesce(a.balance_minor, 0)
     ELSE coalesce((
       SELECT sum(e.amount_minor)
       FROM ledger_entries e
       JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
       WHERE e.account_id = a.account_id AND t.created_at <= ?::timestamptz), 0)
     END)::text AS minor
  FROM unnest(?::text[], ?::text[], ?::text[]) AS wanted(currency, kind, code)
  LEFT JOIN accounts a ON a.code = wanted.code`;

export function providerView(
  db: Knex,
  providerId: string,
  options: ProviderViewOptions,
): Promise<ViewResult<ProviderView>> {
  return onOneSnapshot(db, (trx) => readProvider(trx, providerId, options));
}

async function readProvider(
  db: Knex.Transaction,
  providerId: string,
  options: ProviderViewOptions,
): Promise<ViewResult<ProviderView>> {
  const at = ledgerMoment(options.asOf);
  const { rows: orderCurrencies } = await db.raw<{
    rows: { currency: string; existed: boolean; first_recorded_at: string }[];
  }>(
    `SELECT currency, bool_or(created_at <= ?::timestamptz) AS existed,
       to_char(min(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first_recorded_at
     FROM orders WHERE provider_id = ? GROUP BY currency ORDER BY currency`,
    [at, providerId],
  );
  const name = JSON.stringify(providerId);
  if (orderCurrencies.length === 0) {
    return { absent: `no provider ${name}: no order names it as its provider` };
  }
  const currencies = orderCurrencies.filter((row) => row.existed).map((row) => row.currency);
  if (currencies.length === 0) {
    const first = orderCurrencies.map((row) => row.first_recorded_at).sort()[0]!;
    return {
      absent:
        `provider ${name} had no order at ${at}: its first was recorded at ${first}; ` +
        'ask for a moment at or after that, or leave asOf out for now',
    };
  }

  const wanted = currencies.flatMap((currency) =>
    (['providerPayable', 'providerReceivable'] as const).map((kind) => ({
      currency,
      kind,
      code: accountCode(accounts[kind](currency, providerId)),
    })),
  );
  const { rows: balances } = await db.raw<{
    rows: { currency: string; kind: string; minor: string }[];
  }>(balancesSql, [
    at,
    at,
    wanted.map((row) => row.currency),
    wanted.map((row) => row.kind),
    wanted.map((row) => row.code),
  ]);
  const totals = await payoutTotals(db, providerId, at);
  const list = await payoutList(db, providerId, at, options.payoutsLimit);
  const balance = (currency: string, kind: string) =>
    BigInt(balances.find((row) => row.currency === currency && row.kind === kind)?.minor ?? '0');

  return {
    view: {
      providerId,
      ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
      currencies: currencies.map((currency) =>
        currencyFigures(currency, totals.get(currency), {
          payable: balance(currency, 'providerPayable'),
          receivable: -balance(currency, 'providerReceivable'),
        }),
      ),
      payouts: list.payouts,
      morePayouts: list.more,
    },
  };
}

function currencyFigures(
  currency: string,
  totals: PayoutTotals | undefined,
  balances: { payable: bigint; receivable: bigint },
): ProviderCurrencyView {
  const none = countedAmount(currency, undefined);
  return {
    currency,
    payable: amountText(currency, balances.payable),
    payoutsRequested: totals?.requested ?? none,
    paidOut: totals?.paid ?? none,
    failedPayouts: totals?.failed ?? none,
    receivable: amountText(currency, balances.receivable),
  };
}
