/**
 * The fee policy a slice decides with, read inside its transaction: the one
 * in force now (the newest version whose effective_from has passed, else the
 * default flat PLATFORM_FEE_RATE). The providers' released volumes, for
 * volume tiers, are read with the slice's other context (apply-batch.ts).
 */
import type { Knex } from 'knex';
import { defaultFeePolicy, type FeePolicy } from '../domain/fees';

interface FeePolicyRow {
  policy_id: number;
  effective_from: Date;
  rate: string;
  minimum_fees: Record<string, string>;
  volume_tiers: { minVolume: string; rate: string }[];
  volume_window_days: number;
  dispute_fees: Record<string, string>;
}

/**
 * Frozen through (its tiers and fee tables too), so that the rules are
 * checked once per slice rather than before every fee it prices
 * (assertValidPolicy). A malformed jsonb value is frozen as it is, for the
 * rules to report.
 */
export const toFeePolicy = (row: FeePolicyRow): FeePolicy =>
  Object.freeze({
    policyId: row.policy_id,
    effectiveFrom: row.effective_from,
    // NUMERIC(9,8) comes back with trailing zeros ("0.10000000"); the value is the same.
    rate: row.rate,
    minimumFees: Object.freeze(row.minimum_fees),
    volumeTiers: Object.freeze(
      Array.isArray(row.volume_tiers)
        ? row.volume_tiers.map((tier) => Object.freeze(tier))
        : row.volume_tiers,
    ),
    volumeWindowDays: row.volume_window_days,
    disputeFees: Object.freeze(row.dispute_fees),
  });

export async function policyInForceAt(
  db: Knex | Knex.Transaction,
  at: Date,
  defaultRate: string,
): Promise<FeePolicy> {
  const row = await db<FeePolicyRow>('fee_policies')
    .where('effective_from', '<=', at)
    .orderBy('effective_from', 'desc')
    .first();
  return row ? toFeePolicy(row) : defaultFeePolicy(defaultRate);
}
