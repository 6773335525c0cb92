/**
 * Release happens when the milestone is reached AND fully funded AND not
 * disputed AND its inspection period has passed, whichever comes last; every
 * rule that can make the last of these true calls releaseIfDue. The fee is
 * computed now, from the policy in force now (CONTRACT.md, "Fees").
 */
import { computeReleaseFee } from '../fees';
import { add, formatAmount, isPositive, negate, zero } from '../money';
import { accounts } from './accounts';
import type { DecisionContext } from './context';
import type { DecisionBuilder } from './decision-builder';
import { evolve, isFullyFunded, isTerminal } from './milestone';
import { refundExcessHeld } from './partial-completion';
import { recoverFromRelease } from './recovery';
import type { Milestone, Order, Posting } from './types';

export function inspectionPassed(milestone: Milestone, now: Date): boolean {
  return (
    milestone.inspectionDeadline !== null && milestone.inspectionDeadline.getTime() <= now.getTime()
  );
}

export function isReleasable(milestone: Milestone, now: Date): boolean {
  return (
    !isTerminal(milestone) &&
    milestone.reached &&
    milestone.disputeId === null &&
    isPositive(milestone.held) &&
    isFullyFunded(milestone) &&
    inspectionPassed(milestone, now)
  );
}

/** Releases the whole hold to the provider, less the fee, when every condition is met. */
export function releaseIfDue(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  milestone: Milestone,
): Milestone {
  if (!isReleasable(milestone, context.now)) return milestone;
  // Never release more than the milestone is worth; any excess goes back first.
  milestone = refundExcessHeld(builder, context, order, milestone);
  const { currency, orderId, milestoneId } = milestone;
  const split = computeReleaseFee(milestone.held, context.feePolicy, context.providerVolume);
  // What the provider is owed from chargebacks is netted first (recovery.ts).
  const recovery = recoverFromRelease(builder, context, order, split.net);
  // A minimum fee can take the whole gross: then the provider lines are omitted, not zero.
  const postings: Posting[] = [
    { account: accounts.escrowHold(currency, orderId, milestoneId), amount: negate(split.gross) },
    ...recovery.postings,
  ];
  if (isPositive(split.fee)) {
    postings.push({ account: accounts.platformRevenue(currency), amount: split.fee });
  }
  const index = builder.post({
    kind: 'RELEASE',
    orderId,
    milestoneId,
    postings,
    memo: {
      originalAmount: formatAmount(milestone.originalAmount),
      feePolicyId: split.policyId,
      feeRate: split.rateApplied,
      minimumFeeApplied: split.minimumApplied,
      recoveredAmount: formatAmount(recovery.recovered),
    },
    release: { providerId: order.providerId, gross: split.gross, fee: split.fee },
  });
  const released = evolve(
    milestone,
    {
      held: zero(currency),
      released: add(milestone.released, split.gross),
      fees: add(milestone.fees, split.fee),
      inspectionDeadline: null,
    },
    'RELEASED',
  );
  builder.event('MILESTONE_RELEASED', released, index, {
    grossAmount: formatAmount(split.gross),
    feeAmount: formatAmount(split.fee),
    netAmount: formatAmount(split.net),
    recoveredAmount: formatAmount(recovery.recovered),
  });
  builder.payout(order, released, index, {
    gross: split.gross,
    fee: split.fee,
    net: recovery.paid,
    recovered: recovery.recovered,
  });
  return released;
}
