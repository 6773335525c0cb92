/**
 * The freeze pattern: an open dispute moves the milestone's funds from the
 * escrow hold to its disputed-funds account, where no release, refund or
 * payout touches them, and pauses the inspection clock. Withdrawn, they return
 * and the clock resumes with the time it had left; resolved, they are split
 * between provider (fee at resolution time, plus the policy's dispute fee) and
 * buyer.
 */
import { computeDisputeResolutionFee } from '../fees';
import { add, compare, formatAmount, isPositive, type Money, negate, zero } from '../money';
import { accounts } from './accounts';
import type { OpenDispute, ResolveDispute, WithdrawDispute } from './commands';
import { type DecisionContext, isRejection, parseEventAmount } from './context';
import { aboutMilestone, type DecisionBuilder } from './decision-builder';
import { recoverFromRelease } from './recovery';
import { evolve, isTerminal } from './milestone';
import { refundFinalTopUpExcess, refundExcessHeld } from './partial-completion';
import { closeAsCancelled } from './refunds';
import { releaseIfDue } from './release';
import type { Decision, Milestone, Order, Posting } from './types';

export function openDispute(
  command: OpenDispute,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  if (isTerminal(original) || original.disputeId !== null) {
    const why =
      original.disputeId !== null ? `already disputed (${original.disputeId})` : original.state;
    return builder.rejected(
      'INVALID_STATE',
      `milestone ${original.milestoneId} cannot be disputed: it is ${why}`,
      aboutMilestone(order, original),
    );
  }
  // A FINAL top-up waiting for the final amount is not the milestone's to dispute:
  // it goes back (OVERPAYMENT) before the rest is frozen, so no resolution can pay
  // out more than the milestone is worth.
  let milestone = refundFinalTopUpExcess(
    builder,
    context,
    order,
    builder.touch(original),
    original.amount,
  );
  const { currency, orderId, milestoneId } = milestone;
  const frozen = milestone.held;
  // An unfunded milestone can be disputed too: later payments are frozen on arrival,
  // so the result does not depend on whether the dispute or the payment came first.
  const index = isPositive(frozen)
    ? builder.transfer({
        kind: 'DISPUTE_FREEZE',
        orderId,
        milestoneId,
        from: accounts.escrowHold(currency, orderId, milestoneId),
        to: accounts.disputedFunds(currency, orderId, milestoneId),
        amount: frozen,
        memo: { disputeId: command.disputeId },
      })
    : null;
  const deadline = milestone.inspectionDeadline;
  milestone = evolve(milestone, {
    held: zero(currency),
    disputed: add(milestone.disputed, frozen),
    disputeId: command.disputeId,
    inspectionDeadline: null,
    inspectionRemainingMs:
      deadline === null
        ? milestone.inspectionRemainingMs
        : Math.max(0, deadline.getTime() - context.now.getTime()),
  });
  builder.event('DISPUTE_OPENED', milestone, index, { disputeId: command.disputeId });
  builder.save(milestone);
  return builder.applied();
}

function checkOpenDispute(
  builder: DecisionBuilder,
  order: Order,
  milestone: Milestone,
  disputeId: string,
): Decision | undefined {
  if (milestone.disputeId === disputeId) return undefined;
  return builder.rejected(
    'INVALID_STATE',
    milestone.disputeId === null
      ? `milestone ${milestone.milestoneId} has no open dispute`
      : `milestone ${milestone.milestoneId} is disputed under ${milestone.disputeId}, not ${disputeId}`,
    aboutMilestone(order, milestone),
  );
}

export function withdrawDispute(
  command: WithdrawDispute,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  const refused = checkOpenDispute(builder, order, original, command.disputeId);
  if (refused) return refused;
  let milestone = builder.touch(original);
  const { currency, orderId, milestoneId } = milestone;
  const returned = milestone.disputed;
  const index = isPositive(returned)
    ? builder.transfer({
        kind: 'DISPUTE_UNFREEZE',
        orderId,
        milestoneId,
        from: accounts.disputedFunds(currency, orderId, milestoneId),
        to: accounts.escrowHold(currency, orderId, milestoneId),
        amount: returned,
        memo: { disputeId: command.disputeId },
      })
    : null;
  const remaining = milestone.inspectionRemainingMs;
  milestone = evolve(milestone, {
    held: add(milestone.held, returned),
    disputed: zero(currency),
    disputeId: null,
    inspectionDeadline:
      milestone.reached && remaining !== null ? new Date(context.now.getTime() + remaining) : null,
    inspectionRemainingMs: null,
  });
  builder.event('DISPUTE_WITHDRAWN', milestone, index, { disputeId: command.disputeId });
  builder.save(milestone);
  if (order.state === 'CANCELLED') {
    // The order was cancelled while this milestone was frozen: it is cancelled now.
    closeAsCancelled(builder, context, order, milestone);
    return builder.applied();
  }
  // A finalAmount lowered during the dispute takes effect now that funds are back.
  milestone = refundExcessHeld(builder, context, order, milestone);
  builder.save(releaseIfDue(builder, context, order, milestone));
  return builder.applied();
}

export function resolveDispute(
  command: ResolveDispute,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  const refused = checkOpenDispute(builder, order, original, command.disputeId);
  if (refused) return refused;
  const about = aboutMilestone(order, original);
  const { currency, orderId, milestoneId } = original;
  const providerAmount = parseEventAmount(
    command.resolution.providerAmount,
    currency,
    'resolution.providerAmount',
    { allowZero: true },
  );
  if (isRejection(providerAmount))
    return builder.rejected(providerAmount.reason, providerAmount.message, about);
  const buyerAmount = parseEventAmount(
    command.resolution.buyerAmount,
    currency,
    'resolution.buyerAmount',
    {
      allowZero: true,
    },
  );
  if (isRejection(buyerAmount))
    return builder.rejected(buyerAmount.reason, buyerAmount.message, about);
  if (compare(add(providerAmount, buyerAmount), original.disputed) !== 0) {
    return builder.rejected(
      'INVALID_AMOUNT',
      `resolution ${formatAmount(providerAmount)} + ${formatAmount(buyerAmount)} does not sum to the ` +
        `${formatAmount(original.disputed)} disputed; split exactly the disputed amount`,
      about,
    );
  }

  const split = computeDisputeResolutionFee(
    providerAmount,
    context.feePolicy,
    context.providerVolume,
  );
  const postings: Posting[] = [
    {
      account: accounts.disputedFunds(currency, orderId, milestoneId),
      amount: negate(original.disputed),
    },
  ];
  const credit = (account: Posting['account'], amount: Money) => {
    if (isPositive(amount)) postings.push({ account, amount });
  };
  // What the provider is owed from chargebacks is netted first (recovery.ts).
  const recovery = recoverFromRelease(builder, context, order, split.net);
  postings.push(...recovery.postings);
  credit(accounts.platformRevenue(currency), split.fee);
  credit(accounts.buyerRefundPayable(currency, order.buyerId), buyerAmount);
  const index = isPositive(original.disputed)
    ? builder.post({
        kind: 'DISPUTE_RESOLUTION',
        orderId,
        milestoneId,
        postings,
        memo: {
          disputeId: command.disputeId,
          feePolicyId: split.policyId,
          feeRate: split.rateApplied,
          disputeFee: formatAmount(split.disputeFee),
          originalAmount: formatAmount(original.originalAmount),
        },
        ...(isPositive(providerAmount)
          ? { release: { providerId: order.providerId, gross: providerAmount, fee: split.fee } }
          : {}),
      })
    : null;
  const milestone = evolve(
    builder.touch(original),
    {
      disputed: zero(currency),
      released: add(original.released, providerAmount),
      fees: add(original.fees, split.fee),
      refunded: add(original.refunded, buyerAmount),
      disputeId: null,
      inspectionDeadline: null,
      inspectionRemainingMs: null,
    },
    isPositive(providerAmount) ? 'RELEASED' : 'REFUNDED',
  );
  builder.event('DISPUTE_RESOLVED', milestone, index, {
    disputeId: command.disputeId,
    providerAmount: formatAmount(providerAmount),
    buyerAmount: formatAmount(buyerAmount),
    feeAmount: formatAmount(split.fee),
    disputeFeeAmount: formatAmount(split.disputeFee),
    recoveredAmount: formatAmount(recovery.recovered),
  });
  if (index !== null && isPositive(providerAmount))
    builder.payout(order, milestone, index, {
      gross: split.gross,
      fee: split.fee,
      net: recovery.paid,
      recovered: recovery.recovered,
    });
  if (index !== null && isPositive(buyerAmount)) {
    builder.refund(
      { orderId, buyerId: order.buyerId, milestone },
      index,
      buyerAmount,
      'DISPUTE',
      context.fundingReferences[milestoneId] ?? [],
    );
  }
  builder.save(milestone);
  return builder.applied();
}
