/**
 * GET /orders/{orderId}?asOf=…: each milestone's balances as they stood at a
 * past moment, read back from the append-only ledger (only transactions
 * stamped at or before asOf count).
 *
 * The ledger holds money, not the milestone's lifecycle, so this view shows
 * balances only: no state, version, current amount or inspection deadline
 * (those of now would mislead beside balances of then). Each figure is the
 * ledger projection the reconciliation check `milestone_matches_ledger`
 * compares the milestone row with:
 *   held, disputed = the balance of its ESCROW_HOLD / DISPUTED_FUNDS account
 *   funded   = FUNDING into those two accounts, less CHARGEBACK out of them,
 *              plus CHARGEBACK_REVERSAL back into them
 *   released = RELEASE and DISPUTE_RESOLUTION credits to the provider's payable,
 *              receivable (a chargeback netted first) and platform revenue (gross)
 *   fees     = the PLATFORM_REVENUE part of those
 *   refunded = REFUND and DISPUTE_RESOLUTION credits to the buyer's refund payable
 * So at 'infinity' it equals the row's totals, which the tests check.
 */
import type { Knex } from 'knex';
import { accountCode, accounts } from '../domain/escrow';
import { amountText, onOneSnapshot, type ViewResult } from './view-support';

export interface MilestoneAsOfView {
  milestoneId: string;
  sequence: number;
  originalAmount: string;
  funded: string;
  held: string;
  disputed: string;
  released: string;
  fees: string;
  refunded: string;
}

export interface OrderAsOfView {
  orderId: string;
  buyerId: string;
  providerId: string;
  currency: string;
  /** The moment the balances are of, UTC with microseconds. */
  asOf: string;
  milestones: MilestoneAsOfView[];
}

interface OrderAtRow {
  buyer_id: string;
  provider_id: string;
  currency: string;
  existed: boolean;
  recorded_at: string;
}

type Totals = 'funded' | 'held' | 'disputed' | 'released' | 'fees' | 'refunded';
type BalanceRow = {
  milestone_id: string;
  sequence: number;
  original_amount_minor: string;
} & Record<Totals, string>;

// One row per milestone. Flows are read through the order's transactions
// (index ledger_transactions_by_milestone), balances through the two accounts
// by code (unique index, then ledger_entries_by_account): lookups of this
// order's rows only, however large the ledger.
const balancesSql = `
  SELECT m.milestone_id, m.sequence, m.original_amount_minor::text,
    flows.funded::text, held.balance::text AS held, disputed.balance::text AS disputed,
    flows.released::text, flows.fees::text, flows.refunded::text
  FROM milestones m
  JOIN unnest(?::text[], ?::text[], ?::text[]) AS code(milestone_id, hold, disputed)
    ON code.milestone_id = m.milestone_id
  CROSS JOIN LATERAL (
    SELECT
      coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('FUNDING', 'CHARGEBACK', 'CHARGEBACK_REVERSAL')
        AND a.kind IN ('ESCROW_HOLD', 'DISPUTED_FUNDS')), 0) AS funded,
      coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')
        AND a.kind IN ('PROVIDER_PAYABLE', 'PROVIDER_RECEIVABLE', 'PLATFORM_REVENUE')), 0) AS released,
      coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')
        AND a.kind = 'PLATFORM_REVENUE'), 0) AS fees,
      coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('REFUND', 'DISPUTE_RESOLUTION')
        AND a.kind = 'BUYER_REFUND_PAYABLE'), 0) AS refunded
    FROM ledger_transactions t
    JOIN ledger_entries e ON e.transaction_id = t.transaction_id
    JOIN accounts a ON a.account_id = e.account_id
    WHERE t.order_id = m.order_id AND t.milestone_id = m.milestone_id
      AND t.created_at <= ?::timestamptz
  ) flows
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(e.amount_minor), 0) AS balance
    FROM accounts a
    JOIN ledger_entries e ON e.account_id = a.account_id
    JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
    WHERE a.code = code.hold AND t.created_at <= ?::timestamptz
  ) held
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(e.amount_minor), 0) AS balance
    FROM accounts a
    JOIN ledger_entries e ON e.account_id = a.account_id
    JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
    WHERE a.code = code.disputed AND t.created_at <= ?::timestamptz
  ) disputed
  WHERE m.order_id = ?
  ORDER BY m.sequence, m.milestone_id`;

/**
 * The order's balances at `asOf` (UTC text); absent when the order is unknown
 * or was recorded after that moment (it had no balances then, not zero ones).
 */
export function orderAsOfView(
  db: Knex,
  orderId: string,
  asOf: string,
): Promise<ViewResult<OrderAsOfView>> {
  return onOneSnapshot(db, (trx) => readOrderAsOf(trx, orderId, asOf));
}

async function readOrderAsOf(
  db: Knex.Transaction,
  orderId: string,
  asOf: string,
): Promise<ViewResult<OrderAsOfView>> {
  // Compared in SQL: created_at has microseconds, a JS Date only milliseconds.
  const { rows: found } = await db.raw<{ rows: OrderAtRow[] }>(
    `SELECT buyer_id, provider_id, currency, created_at <= ?::timestamptz AS existed,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at
     FROM orders WHERE order_id = ?`,
    [asOf, orderId],
  );
  const order = found[0];
  if (!order) return { absent: `no order ${JSON.stringify(orderId)}` };
  if (!order.existed) {
    return {
      absent:
        `order ${JSON.stringify(orderId)} did not exist at ${asOf}: it was recorded at ` +
        `${order.recorded_at}; ask for a moment at or after that, or leave asOf out for now`,
    };
  }
  const milestoneIds = (
    await db('milestones')
      .where('order_id', orderId)
      .select<{ milestone_id: string }[]>('milestone_id')
  ).map((row) => row.milestone_id);
  const code = (kind: 'escrowHold' | 'disputedFunds') =>
    milestoneIds.map((id) => accountCode(accounts[kind](order.currency, orderId, id)));
  const { rows } = await db.raw<{ rows: BalanceRow[] }>(balancesSql, [
    milestoneIds,
    code('escrowHold'),
    code('disputedFunds'),
    asOf,
    asOf,
    asOf,
    orderId,
  ]);
  const text = (minor: string) => amountText(order.currency, minor);
  return {
    view: {
      orderId,
      buyerId: order.buyer_id,
      providerId: order.provider_id,
      currency: order.currency,
      asOf,
      milestones: rows.map((row) => ({
        milestoneId: row.milestone_id,
        sequence: row.sequence,
        originalAmount: text(row.original_amount_minor),
        funded: text(row.funded),
        held: text(row.held),
        disputed: text(row.disputed),
        released: text(row.released),
        fees: text(row.fees),
        refunded: text(row.refunded),
      })),
    },
  };
}
