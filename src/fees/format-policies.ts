/**
 * How `fees list` and `fees add` print fee policy versions: which one is in
 * force now, which are scheduled, which are history; rates as a percent and
 * as the stored fraction (both exact, through decimal.js), and a line for the
 * default PLATFORM_FEE_RATE policy, which applies until the first version starts.
 */
import Decimal from 'decimal.js';
import { defaultFeePolicy, type FeePolicy, policyInForce } from '../domain/fees';
import { renderTable } from '../format/text-table';
import type { NewFeePolicy } from './policy-input';
import type { StoredFeePolicy } from './policy-store';

export type PolicyStatus = 'in force' | 'scheduled' | 'superseded';

export function policyStatus(
  policy: FeePolicy,
  all: readonly StoredFeePolicy[],
  now: Date,
  defaultRate: string,
): PolicyStatus {
  if (policy.effectiveFrom.getTime() > now.getTime()) return 'scheduled';
  const inForce = policyInForce(all, now, defaultFeePolicy(defaultRate));
  return inForce.policyId === policy.policyId ? 'in force' : 'superseded';
}

/** "8% (0.08)": NUMERIC(9,8) comes back as "0.08000000"; trailing zeros say nothing. */
export const rateText = (rate: string): string =>
  `${new Decimal(rate).times(100).toFixed()}% (${new Decimal(rate).toFixed()})`;

const amountsText = (amounts: Readonly<Record<string, string>>) =>
  Object.entries(amounts)
    .map(([currency, amount]) => `${currency} ${amount}`)
    .join(', ') || '-';

const tiersText = (policy: FeePolicy) =>
  policy.volumeTiers
    .map((tier) => `from ${tier.minVolume}: ${new Decimal(tier.rate).times(100).toFixed()}%`)
    .join('; ') || '-';

const header = [
  'ID',
  'EFFECTIVE FROM',
  'STATUS',
  'RATE',
  'MINIMUM',
  'TIERS',
  'WINDOW',
  'DISPUTE FEE',
  'NOTE',
];

function row(policy: FeePolicy & { note: string | null }, status: string): string[] {
  return [
    policy.policyId === null ? '(new)' : String(policy.policyId),
    policy.effectiveFrom.toISOString(),
    status,
    rateText(policy.rate),
    amountsText(policy.minimumFees),
    tiersText(policy),
    `${policy.volumeWindowDays} d`,
    amountsText(policy.disputeFees),
    policy.note ?? '',
  ];
}

export function policiesTable(
  policies: readonly StoredFeePolicy[],
  now: Date,
  defaultRate: string,
): string {
  const lines: string[] = [];
  if (policies.length > 0) {
    const rows = policies.map((policy) =>
      row(policy, policyStatus(policy, policies, now, defaultRate)),
    );
    lines.push(
      ...renderTable(
        header.map((title) => ({ title })),
        rows,
      ),
    );
  }
  const started = policies.some((policy) => policy.effectiveFrom.getTime() <= now.getTime());
  lines.push(
    started
      ? `default (PLATFORM_FEE_RATE ${rateText(defaultRate)}): superseded by the versions above`
      : `default (PLATFORM_FEE_RATE ${rateText(defaultRate)}): in force now, no stored version has started`,
  );
  return lines.join('\n');
}

export function newPolicyTable(policy: StoredFeePolicy | NewFeePolicy, status: string): string {
  return renderTable(
    header.map((title) => ({ title })),
    [row(policy, status)],
  ).join('\n');
}

/** The JSON of one version: the stored values as they are, status beside them. */
export function policyJson(policy: StoredFeePolicy | NewFeePolicy, status: string) {
  return {
    policyId: policy.policyId,
    effectiveFrom: policy.effectiveFrom.toISOString(),
    status,
    rate: new Decimal(policy.rate).toFixed(),
    minimumFees: policy.minimumFees,
    volumeTiers: policy.volumeTiers,
    volumeWindowDays: policy.volumeWindowDays,
    disputeFees: policy.disputeFees,
    note: policy.note,
    ...('createdAt' in policy ? { createdAt: policy.createdAt.toISOString() } : {}),
  };
}
