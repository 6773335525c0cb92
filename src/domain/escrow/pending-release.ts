/**
 * The split a release at this moment would make, published with every
 * FUNDS_REFUNDED: the same fee function, policy and provider volume as
 * releaseIfDue (release.ts), on what a release would take — the hold up to what
 * the milestone is worth, since any excess goes back to the buyer first. So the
 * pending fee a refund shows is the fee a release right after it charges; a
 * later release recomputes it from the policy and volume in force then.
 */
import { pendingSplit, type PendingSplit } from '../fees';
import { formatAmount, min } from '../money';
import type { DecisionContext } from './context';
import type { Milestone } from './types';

export function pendingRelease(milestone: Milestone, context: DecisionContext): PendingSplit {
  const releasable = min(milestone.held, milestone.amount);
  return pendingSplit(releasable, context.feePolicy, context.providerVolume);
}

/** The split as FUNDS_REFUNDED carries it in its details. */
export function pendingFields(split: PendingSplit): {
  pendingFee: string;
  pendingEarnings: string;
} {
  return {
    pendingFee: formatAmount(split.pendingFee),
    pendingEarnings: formatAmount(split.pendingEarnings),
  };
}
