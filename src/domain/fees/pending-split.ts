// What a milestone's held funds would pay out if released now, kept for the
// audit trail: the platform's pending fee and the provider's pending earnings.
// It is the release's own figure — the same function, the same policy, the same
// provider volume — so a release at that moment charges exactly this fee. The fee
// actually charged is computed again at release from the policy and volume in
// force then (CONTRACT.md, "Fees"); the split only shows where the money is headed.

import type { Money } from '../money';
import type { FeePolicy } from './fee-policy';
import { computeReleaseFee } from './release-fee';

export interface PendingSplit {
  readonly held: Money;
  readonly pendingFee: Money;
  /** held - pendingFee exactly. */
  readonly pendingEarnings: Money;
}

/**
 * The split a release of `held` would make now. After a partial refund it is
 * taken again on what stays held, not scaled from the split before: scaling
 * would publish a fee no release charges (a 1.00 minimum on 5.00, refunded
 * 2.50, would show 0.50 where the release takes 1.00). With a plain rate the two
 * agree up to rounding — the contract's example, 1000.00 at 10 % refunded
 * 500.00, leaves 50.00 for the platform and 450.00 for the provider either way.
 */
export function pendingSplit(held: Money, policy: FeePolicy, providerVolume: Money): PendingSplit {
  const release = computeReleaseFee(held, policy, providerVolume);
  return Object.freeze({ held, pendingFee: release.fee, pendingEarnings: release.net });
}
