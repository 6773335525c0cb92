/**
 * The fee facts a decision needs, read inside its transaction: the policy in
 * force now (the newest version whose effective_from has passed, else the
 * default flat PLATFORM_FEE_RATE), and the provider's released gross in the
 * order's currency over that policy's trailing window (for volume tiers).
 */
import type { Knex } from 'knex';
import type { Order } from '../domain/escrow';
import { defaultFeePolicy, type FeePolicy } from '../domain/fees';
import { type Money, money, zero } from '../domain/money';

interface FeePolicyRow {
  policy_id: number;
  effective_from: Date;
  rate: string;
  minimum_fees: Record<string, string>;
  volume_tiers: { minVolume: string; rate: string }[];
  volume_window_days: number;
  dispute_fees: Record<string, string>;
}

export const toFeePolicy = (row: FeePolicyRow): FeePolicy => ({
  policyId: row.policy_id,
  effectiveFrom: row.effective_from,
  // NUMERIC(9,8) comes back with trailing zeros ("0.10000000"); the value is the same.
  rate: row.rate,
  minimumFees: row.minimum_fees,
  volumeTiers: row.volume_tiers,
  volumeWindowDays: row.volume_window_days,
  disputeFees: row.dispute_fees,
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

export async function providerVolume(
  db: Knex | Knex.Transaction,
  order: Order,
  policy: FeePolicy,
  now: Date,
): Promise<Money> {
  const since = new Date(now.getTime() - policy.volumeWindowDays * 24 * 3600 * 1000);
  const row = await db('releases')
    .where({ provider_id: order.providerId, currency: order.currency })
    .andWhere('released_at', '>', since)
    .sum({ total: 'gross_minor' })
    .first<{ total: string | null }>();
  return row?.total ? money(order.currency, BigInt(row.total)) : zero(order.currency);
}
