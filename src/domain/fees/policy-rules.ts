// The rules every fee policy obeys, whether it comes from configuration (the
// default policy), from an operator adding a version, or back from the database.
// All broken rules are reported at once, so an operator fixes a policy in one go.

import Decimal from 'decimal.js';
import { MoneyError, parseAmount } from '../money';
import { FeePolicyError, quoteValue } from './errors';
import type { FeePolicy, VolumeTier } from './fee-policy';

// fee_policies.rate is numeric(9, 8): Postgres would round a ninth digit away
// silently, and the fee computed before storing would differ from the one after.
export const MAX_RATE_FRACTION_DIGITS = 8;

// Unsigned plain decimals only: "1e-1", "0,10" or ".1" in a policy is a typo, not
// an intent. Each part matches a distinct character class, so no backtracking.
const UNSIGNED_DECIMAL = /^\d+(?:\.\d+)?$/;
const LONGEST_DECIMAL = 40;

function isUnsignedDecimal(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length <= LONGEST_DECIMAL && UNSIGNED_DECIMAL.test(value)
  );
}

function rateProblem(label: string, rate: unknown): string | null {
  if (!isUnsignedDecimal(rate) || new Decimal(rate).gte(1)) {
    return `${label} ${quoteValue(rate)} is not a decimal in [0, 1): write the fraction as a string, "0.10" for 10 %`;
  }
  const fractionDigits = rate.split('.')[1]?.length ?? 0;
  if (fractionDigits > MAX_RATE_FRACTION_DIGITS) {
    return `${label} ${quoteValue(rate)} has ${fractionDigits} fractional digits: write at most ${MAX_RATE_FRACTION_DIGITS}, as many as the database keeps`;
  }
  return null;
}

// Tiers arrive from a JSON column, so the shape itself is checked, not assumed.
function tierProblems(tiers: readonly VolumeTier[]): string[] {
  const list: unknown = tiers;
  if (!Array.isArray(list)) return ['volumeTiers is not a list: write [] for no tiers'];
  const problems: string[] = [];
  let previous: Decimal | null = null;
  list.forEach((entry: unknown, index) => {
    const label = `volumeTiers[${index}]`;
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`${label} is not a tier: write {"minVolume": "10000.00", "rate": "0.08"}`);
      return;
    }
    const tier = entry as Partial<Record<keyof VolumeTier, unknown>>;
    const rate = rateProblem(`${label}.rate`, tier.rate);
    if (rate !== null) problems.push(rate);
    if (!isUnsignedDecimal(tier.minVolume) || new Decimal(tier.minVolume).isZero()) {
      problems.push(
        `${label}.minVolume ${quoteValue(tier.minVolume)} is not a positive decimal in major units: ` +
          'write it like "10000.00"; a tier from zero volume would always apply, so set the base rate instead',
      );
      return;
    }
    const minVolume = new Decimal(tier.minVolume);
    if (previous !== null && minVolume.lte(previous)) {
      problems.push(
        `${label}.minVolume ${tier.minVolume} is not above the previous tier's ${previous.toFixed()}: ` +
          'list the tiers in strictly increasing minVolume, one tier per threshold',
      );
    }
    previous = minVolume;
  });
  return problems;
}

// parseAmount already knows what a valid amount in a currency is, and says why not.
function fixedFeeProblems(field: string, fees: Readonly<Record<string, string>>): string[] {
  if (typeof fees !== 'object' || fees === null || Array.isArray(fees)) {
    return [`${field} is not an object of currency to amount: write {} for none`];
  }
  const problems: string[] = [];
  for (const [currency, amount] of Object.entries(fees)) {
    try {
      parseAmount(amount, currency);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      problems.push(`${field}.${currency}: ${error.message}`);
    }
  }
  return problems;
}

/** Every rule the policy breaks, each with its fix; empty when it is valid. */
export function policyProblems(policy: FeePolicy): string[] {
  const problems: string[] = [];
  if (!(policy.effectiveFrom instanceof Date) || Number.isNaN(policy.effectiveFrom.getTime())) {
    problems.push('effectiveFrom is not a valid date: give an ISO-8601 instant in UTC');
  }
  const rate = rateProblem('rate', policy.rate);
  if (rate !== null) problems.push(rate);
  problems.push(...tierProblems(policy.volumeTiers));
  if (!Number.isInteger(policy.volumeWindowDays) || policy.volumeWindowDays <= 0) {
    problems.push(
      `volumeWindowDays ${quoteValue(policy.volumeWindowDays)} is not a positive whole number of days: ` +
        `write it like 30`,
    );
  }
  problems.push(...fixedFeeProblems('minimumFees', policy.minimumFees));
  problems.push(...fixedFeeProblems('disputeFees', policy.disputeFees));
  return problems;
}

/** "fee policy 7 (effective from …)"; no id for the default or a version not stored yet. */
export function describePolicy(policy: FeePolicy): string {
  const name = policy.policyId === null ? 'fee policy' : `fee policy ${policy.policyId}`;
  const start = policy.effectiveFrom;
  const valid = start instanceof Date && !Number.isNaN(start.getTime());
  return valid ? `${name} (effective from ${start.toISOString()})` : name;
}

/**
 * Frozen policies found valid, with the instant their effectiveFrom held
 * then. A policy is checked before every fee it prices (a row edited by hand
 * must not charge a wrong fee), a slice prices hundreds of fees with one
 * policy, and the rules parse every rate and amount of it; a policy frozen
 * through cannot change, so it is checked once. Its Date is the one part
 * freezing does not hold, so it is compared; a policy that is not frozen
 * through is checked every time.
 */
const validFrozenPolicies = new WeakMap<FeePolicy, number>();

const isFrozenThrough = (policy: FeePolicy): boolean =>
  Object.isFrozen(policy) &&
  Object.isFrozen(policy.minimumFees) &&
  Object.isFrozen(policy.disputeFees) &&
  Object.isFrozen(policy.volumeTiers) &&
  policy.volumeTiers.every((tier) => Object.isFrozen(tier));

export function assertValidPolicy(policy: FeePolicy): void {
  // Only a policy found valid is in the map, so its effectiveFrom is a Date.
  const checkedAt = validFrozenPolicies.get(policy);
  if (checkedAt !== undefined && checkedAt === policy.effectiveFrom.getTime()) return;
  const problems = policyProblems(policy);
  if (problems.length === 0) {
    if (isFrozenThrough(policy)) validFrozenPolicies.set(policy, policy.effectiveFrom.getTime());
    return;
  }
  throw new FeePolicyError(
    'FEE_POLICY_INVALID',
    `${describePolicy(policy)} breaks ${problems.length} rule${problems.length === 1 ? '' : 's'} ` +
      `(FEE_POLICY_INVALID): ${problems.join('; ')}`,
  );
}
