/**
 * GET /liquidity[?asOf=…]: where the platform's money is, per currency.
 *
 *   escrowHold       sum of ESCROW_HOLD accounts: the pool held for milestones
 *                    (disputed funds are never in it)
 *   disputed         sum of DISPUTED_FUNDS accounts
 *   providerPayable  sum of PROVIDER_PAYABLE accounts (inPayout is part of it)
 *   refundPayable    sum of BUYER_REFUND_PAYABLE accounts
 *   inPayout         payouts requested and not settled (count, net amount), a
 *                    part of providerPayable already on its way
 *   receivable       sum of PROVIDER_RECEIVABLE accounts, negated: owed back by
 *                    providers after chargebacks of money released to them
 *   revenue          PLATFORM_REVENUE
 *   gatewayClearing  GATEWAY_CLEARING, negated: the money at the gateways
 *                    (received, less paid out, refunded and charged back)
 *
 * The ledger nets to zero, so gatewayClearing = escrowHold + disputed +
 * providerPayable + refundPayable + revenue - receivable, to the minor unit.
 *
 * Cost: now, the running balances of the accounts that keep one (one row per
 * account) and the entries of clearing and revenue, which keep none (one per
 * payment, settlement and release: this part grows with the ledger). At a past
 * moment every entry stamped by then is summed: a report, like reconciliation.
 */
import type { Knex } from 'knex';
import {
  amountText,
  type CountedAmount,
  countedAmount,
  ledgerMoment,
  onOneSnapshot,
} from './view-support';

export interface LiquidityCurrencyView {
  currency: string;
  escrowHold: string;
  disputed: string;
  providerPayable: string;
  refundPayable: string;
  inPayout: CountedAmount;
  receivable: string;
  revenue: string;
  gatewayClearing: string;
}

export interface LiquidityView {
  /** Present when asked for: the moment the figures are of, UTC with microseconds. */
  asOf?: string;
  currencies: LiquidityCurrencyView[];
}

type KindBalance = { currency: string; kind: string; minor: string };

const balancesNowSql = `
  SELECT currency, kind, sum(balance_minor)::text AS minor
  FROM accounts WHERE maintains_balance GROUP BY currency, kind
  UNION ALL
  SELECT a.currency, a.kind, sum(e.amount_minor)::text
  FROM accounts a JOIN ledger_entries e ON e.account_id = a.account_id
  WHERE NOT a.maintains_balance GROUP BY a.currency, a.kind`;

const balancesAtSql = `
  SELECT a.currency, a.kind, sum(e.amount_minor)::text AS minor
  FROM ledger_transactions t
  JOIN ledger_entries e ON e.transaction_id = t.transaction_id
  JOIN accounts a ON a.account_id = e.account_id
  WHERE t.created_at <= ?::timestamptz
  GROUP BY a.currency, a.kind`;

// A payout is in flight from its request until its settlement (paid or
// failed), each by the disbursement's own timestamps.
const inPayoutSql = `
  SELECT currency, count(*) AS count, sum(amount_minor)::text AS minor
  FROM disbursements
  WHERE kind = 'PAYOUT' AND requested_at <= ?::timestamptz
    AND (settled_at IS NULL OR settled_at > ?::timestamptz)
  GROUP BY currency`;

export function liquidityView(db: Knex, asOf?: string): Promise<LiquidityView> {
  return onOneSnapshot(db, async (trx) => {
    const at = ledgerMoment(asOf);
    const { rows: balances } = await (asOf === undefined
      ? trx.raw<{ rows: KindBalance[] }>(balancesNowSql)
      : trx.raw<{ rows: KindBalance[] }>(balancesAtSql, [at]));
    const { rows: inPayout } = await trx.raw<{
      rows: { currency: string; count: string; minor: string }[];
    }>(inPayoutSql, [at, at]);
    const currencies = [...new Set(balances.map((row) => row.currency))].sort();
    return {
      ...(asOf === undefined ? {} : { asOf }),
      currencies: currencies.map((currency) => {
        const sum = (kind: string) =>
          balances
            .filter((row) => row.currency === currency && row.kind === kind)
            .reduce((total, row) => total + BigInt(row.minor), 0n);
        const text = (minor: bigint) => amountText(currency, minor);
        return {
          currency,
          escrowHold: text(sum('ESCROW_HOLD')),
          disputed: text(sum('DISPUTED_FUNDS')),
          providerPayable: text(sum('PROVIDER_PAYABLE')),
          refundPayable: text(sum('BUYER_REFUND_PAYABLE')),
          inPayout: countedAmount(
            currency,
            inPayout.find((row) => row.currency === currency),
          ),
          receivable: text(-sum('PROVIDER_RECEIVABLE')),
          revenue: text(sum('PLATFORM_REVENUE')),
          gatewayClearing: text(-sum('GATEWAY_CLEARING')),
        };
      }),
    };
  });
}
