// The platform fee on a release, computed at the moment of release from the
// policy in force then (CONTRACT.md, "Fees"). Rounding happens once, half-up to
// the minor unit, and the provider's net is the remainder, so fee + net is the
// gross to the minor unit and the ledger entries of a release always balance.

import {
  compare,
  formatAmount,
  min,
  MoneyError,
  multiplyByRate,
  subtract,
  type Money,
} from '../money';
import type { FeePolicy, VolumeTier } from './fee-policy';
import { fixedFeeFor } from './policy';
import { assertValidPolicy } from './policy-rules';
import { tierForVolume } from './volume-tier';

export interface ReleaseFee {
  readonly gross: Money;
  /** The platform's part; 0 <= fee <= gross. */
  readonly fee: Money;
  /** The provider's part: gross - fee exactly. */
  readonly net: Money;
  /** The rate the fee was computed with (the tier's, or the policy's base rate). */
  readonly rateApplied: string;
  readonly tierApplied: VolumeTier | null;
  /** True when the policy's minimum for the currency replaced the rate-based fee. */
  readonly minimumApplied: boolean;
  readonly policyId: number | null;
}

/**
 * The fee on releasing `gross` to a provider whose released gross in the same
 * currency over the policy's trailing window, before this release, is
 * `providerVolume`.
 *
 * 1. rate = the rate of the highest tier whose minVolume <= providerVolume, else
 *    the policy's base rate;
 * 2. fee = gross × rate, half-up to the minor unit;
 * 3. when the policy has a minimum for the currency and the fee is below it, the
 *    fee is the minimum, but never more than the gross (a release is never
 *    negative for the provider). A zero gross releases nothing and pays nothing.
 *
 * The rate is below 1 (policy-rules.ts), and rounding gross × rate (< gross) to
 * the nearest integer cannot pass the integer gross, so step 2 never exceeds it.
 */
export function computeReleaseFee(
  gross: Money,
  policy: FeePolicy,
  providerVolume: Money,
): ReleaseFee {
  // Policies from the database passed validateNewPolicy; this catches a row
  // edited by hand before it charges a wrong fee.
  assertValidPolicy(policy);
  assertReleasable(gross, providerVolume);

  const tierApplied = tierForVolume(policy.volumeTiers, providerVolume);
  const rateApplied = tierApplied?.rate ?? policy.rate;
  const rateBasedFee = multiplyByRate(gross, rateApplied);

  const minimum = fixedFeeFor(policy.minimumFees, gross.currency);
  const minimumApplied = gross.minor > 0n && minimum !== null && compare(rateBasedFee, minimum) < 0;
  const fee = minimumApplied ? min(minimum, gross) : rateBasedFee;

  return Object.freeze({
    gross,
    fee,
    net: subtract(gross, fee),
    rateApplied,
    tierApplied,
    minimumApplied,
    policyId: policy.policyId,
  });
}

function assertReleasable(gross: Money, providerVolume: Money): void {
  if (gross.minor < 0n) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `release of ${formatAmount(gross)} ${gross.currency} is negative (INVALID_AMOUNT): ` +
        'a release moves held funds to the provider; reverse a release with a correcting transaction',
    );
  }
  if (providerVolume.currency !== gross.currency) {
    throw new MoneyError(
      'CURRENCY_MISMATCH',
      `release in ${gross.currency} with a provider volume in ${providerVolume.currency} ` +
        '(CURRENCY_MISMATCH): volume tiers count the released volume in the release currency only',
    );
  }
}
