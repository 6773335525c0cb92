/**
 * The attention page's money on its way or owed: payouts and refunds asked
 * for and not settled yet, those that FAILED and were not asked for again
 * (each with the command that asks again), and provider receivables still
 * outstanding after chargebacks of released money.
 *
 * Cost: open requests through the partial index disbursements_unsettled,
 * receivables through chargebacks_outstanding: both as small as what is open.
 */
import type { Knex } from 'knex';
import type { CurrencyAmount } from './attention-stuck-funds';
import { amountText } from './view-support';

export interface OpenRequest {
  outcomeId: string;
  kind: 'PAYOUT' | 'REFUND';
  state: 'REQUESTED' | 'FAILED';
  orderId: string;
  milestoneId: string | null;
  /** The provider paid or the buyer refunded. */
  partyId: string;
  currency: string;
  amount: string;
  failureReason: string | null;
  requestedAt: string;
  settledAt: string | null;
  /** FAILED only: the operator's command that asks for the money again. */
  retryCommand: string | null;
}

export interface OpenRequests {
  /** Oldest first, at most the limit. */
  requests: OpenRequest[];
  /** Counts and amounts per state, kind and currency over all open requests. */
  totals: { state: string; kind: string; count: number; currency: string; amount: string }[];
}

export interface OutstandingReceivable {
  providerId: string;
  currency: string;
  /** Still to recover from the provider's later releases. */
  owed: string;
  chargebacks: number;
  oldestChargedBackAt: string;
}

interface RequestRow {
  outcome_id: string;
  kind: 'PAYOUT' | 'REFUND';
  state: 'REQUESTED' | 'FAILED';
  order_id: string;
  milestone_id: string | null;
  party_id: string;
  currency: string;
  amount_minor: string;
  failure_reason: string | null;
  requested_at: Date;
  settled_at: Date | null;
}

const retryCommand = (row: RequestRow) =>
  `escrow-worker ${row.kind === 'PAYOUT' ? 'payouts' : 'refunds'} retry --outcome ${row.outcome_id}`;

export async function openRequests(db: Knex.Transaction, listed: number): Promise<OpenRequests> {
  const { rows } = await db.raw<{ rows: RequestRow[] }>(
    `SELECT outcome_id::text, kind, state, order_id, milestone_id, party_id, currency,
       amount_minor::text, failure_reason, requested_at, settled_at
     FROM disbursements WHERE state IN ('REQUESTED', 'FAILED')
     ORDER BY requested_at, outcome_id LIMIT ?`,
    [listed],
  );
  const { rows: totals } = await db.raw<{
    rows: { state: string; kind: string; currency: string; count: string; minor: string }[];
  }>(
    `SELECT state, kind, currency, count(*)::text AS count, sum(amount_minor)::text AS minor
     FROM disbursements WHERE state IN ('REQUESTED', 'FAILED')
     GROUP BY state, kind, currency ORDER BY state, kind, currency`,
  );
  return {
    requests: rows.map((row) => ({
      outcomeId: row.outcome_id,
      kind: row.kind,
      state: row.state,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      partyId: row.party_id,
      currency: row.currency,
      amount: amountText(row.currency, row.amount_minor),
      failureReason: row.failure_reason,
      requestedAt: row.requested_at.toISOString(),
      settledAt: row.settled_at?.toISOString() ?? null,
      retryCommand: row.state === 'FAILED' ? retryCommand(row) : null,
    })),
    totals: totals.map((row) => ({
      state: row.state,
      kind: row.kind,
      currency: row.currency,
      count: Number(row.count),
      amount: amountText(row.currency, row.minor),
    })),
  };
}

/** Per provider and currency, oldest chargeback first, at most the limit. */
export async function outstandingReceivables(
  db: Knex.Transaction,
  listed: number,
): Promise<{ receivables: OutstandingReceivable[]; owed: CurrencyAmount[] }> {
  const { rows } = await db.raw<{
    rows: {
      provider_id: string;
      currency: string;
      owed: string;
      chargebacks: string;
      oldest: Date;
    }[];
  }>(
    `SELECT provider_id, trim(currency) AS currency,
       sum(receivable_minor - recovered_minor)::text AS owed, count(*)::text AS chargebacks,
       min(charged_back_at) AS oldest
     FROM chargebacks WHERE recovered_minor < receivable_minor AND NOT reversed
     GROUP BY provider_id, currency ORDER BY min(charged_back_at), provider_id`,
  );
  const owed = new Map<string, bigint>();
  for (const row of rows) owed.set(row.currency, (owed.get(row.currency) ?? 0n) + BigInt(row.owed));
  return {
    receivables: rows.slice(0, listed).map((row) => ({
      providerId: row.provider_id,
      currency: row.currency,
      owed: amountText(row.currency, row.owed),
      chargebacks: Number(row.chargebacks),
      oldestChargedBackAt: row.oldest.toISOString(),
    })),
    owed: [...owed]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, minor]) => ({ currency, amount: amountText(currency, minor) })),
  };
}
