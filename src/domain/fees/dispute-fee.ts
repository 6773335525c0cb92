// A resolved dispute releases the provider's part of the disputed funds. That
// release pays the ordinary release fee, and the policy may add a dispute fee
// for the cost of handling the dispute. Both come out of the provider's part,
// never out of the buyer's refund, and together never exceed it.

import { add, min, subtract, zero, type Money } from '../money';
import type { FeePolicy } from './fee-policy';
import { fixedFeeFor } from './policy';
import { computeReleaseFee, type ReleaseFee } from './release-fee';

export interface DisputeResolutionFee extends ReleaseFee {
  /** The dispute part of `fee`; `fee` is the release fee plus this. */
  readonly disputeFee: Money;
}

/**
 * The fee on the provider's part of a resolved dispute: the release fee of
 * computeReleaseFee plus the policy's dispute fee for the currency (zero when it
 * sets none). When the two together would pass `providerAmount`, the dispute fee
 * is cut to what the release fee leaves, so net = providerAmount - fee >= 0. A
 * zero provider part (everything refunded to the buyer) releases nothing and
 * pays no fee at all.
 */
export function computeDisputeResolutionFee(
  providerAmount: Money,
  policy: FeePolicy,
  providerVolume: Money,
): DisputeResolutionFee {
  const release = computeReleaseFee(providerAmount, policy, providerVolume);
  const currency = providerAmount.currency;
  const policyDisputeFee = fixedFeeFor(policy.disputeFees, currency) ?? zero(currency);
  // Capped by what the release fee leaves; a zero provider part leaves zero.
  const disputeFee = min(policyDisputeFee, release.net);
  const fee = add(release.fee, disputeFee);
  return Object.freeze({
    ...release,
    fee,
    net: subtract(providerAmount, fee),
    disputeFee,
  });
}
