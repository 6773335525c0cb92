/**
 * The attention page's stuck funds: every milestone holding money (escrow
 * hold or disputed) counted by how long it has held it, since its first
 * FUNDING transaction, in the age buckets of reconciliation's stuck_funds
 * check (src/reconcile/checks/ages.ts: < 1d, 1d–7d, 7d–30d, 30d–90d, 90d–180d,
 * ≥ 180d), with the oldest milestones listed. Unlike the check, which reports
 * only those past its 30-day threshold as discrepancies, this lists the
 * oldest whatever their age: a support agent asking "where is my money?"
 * needs a milestone funded yesterday as much as one funded last year.
 *
 * Cost: the milestones holding funds (not the whole table: a partial scan by
 * the filter) and, for each, its first funding by ledger_transactions_by_milestone.
 */
import type { Knex } from 'knex';
import { AgeTally, ageBoundaries, bucketIndexSql } from '../reconcile/checks/ages';
import { defaultReconcileOptions } from '../reconcile/types';
import { amountText } from './view-support';

export interface CurrencyAmount {
  currency: string;
  amount: string;
}

export interface StuckFundsBucket {
  label: string;
  fromMs: number;
  /** Null for the last, open-ended bucket. */
  toMs: number | null;
  milestones: number;
  /** What those milestones hold per currency (escrow hold + disputed). */
  amounts: CurrencyAmount[];
}

export interface HoldingMilestone {
  orderId: string;
  milestoneId: string;
  state: string;
  currency: string;
  held: string;
  disputed: string;
  /** When its escrow first received money (UTC). */
  since: string;
  ageMs: number;
  /** True past reconciliation's stuck-funds threshold: reconcile reports it. */
  pastThreshold: boolean;
}

export interface StuckFunds {
  /** Reconciliation's stuck-funds threshold, in ms (30 days). */
  thresholdMs: number;
  buckets: StuckFundsBucket[];
  /** The oldest milestones holding funds, oldest first. */
  oldest: HoldingMilestone[];
  /** How many milestones hold funds in all. */
  holding: number;
}

interface HoldingRow {
  bucket: number;
  order_id: string;
  milestone_id: string;
  state: string;
  currency: string;
  held: string;
  disputed: string;
  since: Date;
  age_ms: string;
}

const holdingSql = `
  WITH holding AS MATERIALIZED (
    SELECT m.order_id, m.milestone_id, m.state, m.currency, m.held_minor, m.disputed_minor,
      coalesce((SELECT min(t.created_at) FROM ledger_transactions t
        WHERE t.order_id = m.order_id AND t.milestone_id = m.milestone_id AND t.kind = 'FUNDING'),
        m.updated_at) AS since
    FROM milestones m
    WHERE m.held_minor > 0 OR m.disputed_minor > 0
  ), aged AS (
    SELECT *, floor(extract(epoch FROM (?::timestamptz - since)) * 1000)::bigint AS age_ms FROM holding
  )
  SELECT ${bucketIndexSql('aged.age_ms')} AS bucket, order_id, milestone_id, state, currency,
    held_minor::text AS held, disputed_minor::text AS disputed, since, age_ms::text
  FROM aged ORDER BY since, order_id, milestone_id`;

const byCurrency = (amounts: ReadonlyMap<string, bigint> | undefined): CurrencyAmount[] =>
  [...(amounts ?? new Map<string, bigint>())]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, minor]) => ({ currency, amount: amountText(currency, minor) }));

export async function stuckFunds(
  db: Knex.Transaction,
  now: Date,
  listed: number,
): Promise<StuckFunds> {
  const thresholdMs = defaultReconcileOptions.stuckFundsAfterMs;
  const boundaries = ageBoundaries(thresholdMs);
  const { rows } = await db.raw<{ rows: HoldingRow[] }>(holdingSql, [
    now.toISOString(),
    boundaries.map(String),
  ]);
  // AgeTally gives the buckets and their labels; the amounts are kept apart, by currency,
  // because the tally writes them as one text ("1500.00 USD") and the API keeps the two apart.
  const tally = new AgeTally();
  const amounts = new Map<number, Map<string, bigint>>();
  for (const row of rows) {
    const holds = BigInt(row.held) + BigInt(row.disputed);
    tally.add(row.bucket, row.currency, holds);
    const bucket = amounts.get(row.bucket) ?? new Map<string, bigint>();
    bucket.set(row.currency, (bucket.get(row.currency) ?? 0n) + holds);
    amounts.set(row.bucket, bucket);
  }
  return {
    thresholdMs,
    buckets: tally.byAge(boundaries).map(({ label, fromMs, toMs, count }, index) => ({
      label,
      fromMs,
      toMs,
      milestones: count,
      amounts: byCurrency(amounts.get(index)),
    })),
    oldest: rows.slice(0, listed).map((row) => ({
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      state: row.state,
      currency: row.currency,
      held: amountText(row.currency, row.held),
      disputed: amountText(row.currency, row.disputed),
      since: row.since.toISOString(),
      ageMs: Number(row.age_ms),
      pastThreshold: Number(row.age_ms) >= thresholdMs,
    })),
    holding: rows.length,
  };
}
