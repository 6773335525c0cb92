/**
 * A provider's payouts (disbursements of kind PAYOUT, src/store/disbursements.ts)
 * as they stood at a moment: the requests made by then, each in the state it
 * had then. A disbursement keeps its own timestamps (`requested_at`,
 * `settled_at`), stamped by the worker with the time of the write that
 * recorded them, so the state at a moment follows from them:
 *   not yet requested             → not listed
 *   not settled by then           → REQUESTED (whatever happened later)
 *   RETRIED, its retry not yet asked → FAILED (it was still failed then)
 *   otherwise                     → the state it has now (PAID, FAILED, RETRIED)
 * Read through the index disbursements_by_party: the provider's rows only.
 */
import type { Knex } from 'knex';
import { amountText, type CountedAmount, countedAmount } from './view-support';

export type PayoutState = 'REQUESTED' | 'PAID' | 'FAILED' | 'RETRIED';

export interface PayoutView {
  outcomeId: string;
  orderId: string;
  milestoneId: string | null;
  currency: string;
  /** grossAmount = feeAmount + recoveredAmount + netAmount; netAmount is what is paid. */
  grossAmount: string;
  feeAmount: string;
  recoveredAmount: string;
  netAmount: string;
  state: PayoutState;
  failureReason: string | null;
  settlementReference: string | null;
  requestedAt: string;
  settledAt: string | null;
  /** The failed request this one asks again for. */
  retryOf: string | null;
  /** The request that asked again for this failed one. */
  retriedBy: string | null;
}

export interface PayoutTotals {
  requested: CountedAmount;
  paid: CountedAmount;
  failed: CountedAmount;
}

interface PayoutRow {
  outcome_id: string;
  order_id: string;
  milestone_id: string | null;
  currency: string;
  amount_minor: string;
  gross_minor: string;
  fee_minor: string;
  recovered_minor: string;
  state: PayoutState;
  failure_reason: string | null;
  settlement_reference: string | null;
  requested_at: Date;
  settled_at: Date | null;
  retry_of: string | null;
  retried_by: string | null;
}

// Bindings: the provider, then the moment five times. The retry is looked up
// among the same provider's payouts (a retry pays the same party).
const payoutsAt = `
  WITH payouts AS (
    SELECT d.*, retry.outcome_id AS retried_by, retry.requested_at AS retried_at,
      d.settled_at IS NOT NULL AND d.settled_at <= ?::timestamptz AS settled_then
    FROM disbursements d
    LEFT JOIN disbursements retry ON retry.retry_of = d.outcome_id
      AND retry.party_id = d.party_id AND retry.kind = 'PAYOUT'
    WHERE d.party_id = ? AND d.kind = 'PAYOUT' AND d.requested_at <= ?::timestamptz
  ), at_moment AS (
    SELECT outcome_id::text, order_id, milestone_id, currency, amount_minor::text,
      gross_minor::text, fee_minor::text, recovered_minor::text, requested_at, retry_of::text,
      CASE WHEN NOT settled_then THEN 'REQUESTED'
           WHEN state = 'RETRIED' AND retried_at > ?::timestamptz THEN 'FAILED'
           ELSE state END AS state,
      CASE WHEN settled_then THEN failure_reason END AS failure_reason,
      CASE WHEN settled_then THEN settlement_reference END AS settlement_reference,
      CASE WHEN settled_then THEN settled_at END AS settled_at,
      CASE WHEN retried_at <= ?::timestamptz THEN retried_by::text END AS retried_by
    FROM payouts
  )`;

const bindings = (providerId: string, at: string) => [at, providerId, at, at, at];

/** Per currency: the payouts requested and unsettled, paid, and failed (not asked again) at `at`. */
export async function payoutTotals(
  db: Knex,
  providerId: string,
  at: string,
): Promise<Map<string, PayoutTotals>> {
  const { rows } = await db.raw<{
    rows: { currency: string; state: PayoutState; count: string; minor: string }[];
  }>(
    `${payoutsAt}
     SELECT currency, state, count(*) AS count, sum(amount_minor::bigint)::text AS minor
     FROM at_moment GROUP BY currency, state`,
    bindings(providerId, at),
  );
  const totals = new Map<string, PayoutTotals>();
  for (const currency of new Set(rows.map((row) => row.currency))) {
    const of = (state: PayoutState) =>
      countedAmount(
        currency,
        rows.find((row) => row.currency === currency && row.state === state),
      );
    totals.set(currency, { requested: of('REQUESTED'), paid: of('PAID'), failed: of('FAILED') });
  }
  return totals;
}

/** The newest `limit` payouts at `at`, newest first, and whether older ones were left out. */
export async function payoutList(
  db: Knex,
  providerId: string,
  at: string,
  limit: number,
): Promise<{ payouts: PayoutView[]; more: boolean }> {
  const { rows } = await db.raw<{ rows: PayoutRow[] }>(
    `${payoutsAt}
     SELECT * FROM at_moment ORDER BY requested_at DESC, outcome_id DESC LIMIT ?`,
    [...bindings(providerId, at), limit + 1],
  );
  const payouts = rows.slice(0, limit).map((row) => {
    const text = (minor: string) => amountText(row.currency, minor);
    return {
      outcomeId: row.outcome_id,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      currency: row.currency,
      grossAmount: text(row.gross_minor),
      feeAmount: text(row.fee_minor),
      recoveredAmount: text(row.recovered_minor),
      netAmount: text(row.amount_minor),
      state: row.state,
      failureReason: row.failure_reason,
      settlementReference: row.settlement_reference,
      requestedAt: row.requested_at.toISOString(),
      settledAt: row.settled_at?.toISOString() ?? null,
      retryOf: row.retry_of,
      retriedBy: row.retried_by,
    };
  });
  return { payouts, more: rows.length > limit };
}
