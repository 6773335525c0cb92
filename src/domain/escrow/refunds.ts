/**
 * Partial escrow reversals and cancellations: held funds go back to the buyer.
 * A partial refund lowers what the milestone is worth (its amount) and, with
 * it, the provider's pending earnings and the platform's pending fee, both
 * taken as a release at that moment would take them (pendingRelease); the
 * original intent stays on the milestone and in the ledger memo.
 */
import {
  add,
  compare,
  formatAmount,
  min,
  isPositive,
  isZero,
  type Money,
  subtract,
  zero,
} from '../money';
import { accounts } from './accounts';
import type { CancelOrder, CancelMilestone, RequestRefund } from './commands';
import { type DecisionContext, isRejection, parseEventAmount } from './context';
import { aboutMilestone, DecisionBuilder } from './decision-builder';
import { evolve, isTerminal } from './milestone';
import { pendingFields, pendingRelease } from './pending-release';
import { releaseIfDue } from './release';
import type { Decision, Milestone, Order, RefundReason } from './types';

/** Posts hold → buyer refund payable and reports it; returns the transaction index. */
function refundHeld(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  milestone: Milestone,
  amount: Money,
  reason: RefundReason,
  memo: Record<string, string>,
): number {
  const { currency, orderId, milestoneId } = milestone;
  const index = builder.transfer({
    kind: 'REFUND',
    orderId,
    milestoneId,
    from: accounts.escrowHold(currency, orderId, milestoneId),
    to: accounts.buyerRefundPayable(currency, order.buyerId),
    amount,
    memo: { reason, originalAmount: formatAmount(milestone.originalAmount), ...memo },
  });
  builder.refund(
    { orderId, buyerId: order.buyerId, milestone },
    index,
    amount,
    reason,
    context.fundingReferences[milestoneId] ?? [],
  );
  return index;
}

export function requestRefund(
  command: RequestRefund,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  const about = aboutMilestone(order, original);
  if (original.disputeId !== null) {
    return builder.rejected(
      'INVALID_STATE',
      `milestone ${original.milestoneId} is disputed: its funds are frozen until the dispute is resolved`,
      about,
    );
  }
  const amount = parseEventAmount(command.amount, original.currency, 'amount');
  if (isRejection(amount)) return builder.rejected(amount.reason, amount.message, about);
  if (compare(amount, original.held) > 0) {
    return builder.rejected(
      'OVER_REFUND',
      `refund of ${formatAmount(amount)} exceeds the ${formatAmount(original.held)} held for ` +
        `milestone ${original.milestoneId}; refund at most what is held`,
      about,
    );
  }
  const before = pendingRelease(original, context);
  // Upstream may say the work was half done; every other reason is the platform's
  // own to give (OVERPAYMENT, DISPUTE, ...), so it is published as REQUESTED.
  const reason: RefundReason =
    command.reason === 'PARTIAL_COMPLETION' ? 'PARTIAL_COMPLETION' : 'REQUESTED';
  let milestone = builder.touch(original);
  // What is held beyond the amount (a FINAL top-up waiting for the reach) goes
  // first: only the rest of the refund lowers what the milestone is worth.
  const beyondAmount = subtract(milestone.held, min(milestone.held, milestone.amount));
  const remainingAmount = subtract(milestone.amount, subtract(amount, min(amount, beyondAmount)));
  milestone = evolve(
    milestone,
    {
      held: subtract(milestone.held, amount),
      refunded: add(milestone.refunded, amount),
      amount: remainingAmount,
    },
    // Nothing left to fund or release: the milestone is fully refunded.
    isZero(remainingAmount) ? 'REFUNDED' : undefined,
  );
  const index = refundHeld(builder, context, order, milestone, amount, reason, {
    requestedReason: command.reason,
  });
  const after = pendingRelease(milestone, context);
  builder.event('FUNDS_REFUNDED', milestone, index, {
    refundAmount: formatAmount(amount),
    reason,
    requestedReason: command.reason,
    pendingFeeBefore: formatAmount(before.pendingFee),
    pendingEarningsBefore: formatAmount(before.pendingEarnings),
    ...pendingFields(after),
  });
  builder.save(releaseIfDue(builder, context, order, milestone));
  return builder.applied();
}

/** Refunds everything held and closes the milestone; returns it, or a reason it cannot. */
export function closeAsCancelled(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  original: Milestone,
): Milestone | string {
  if (isTerminal(original)) return `milestone ${original.milestoneId} is already ${original.state}`;
  if (original.disputeId !== null) {
    return `milestone ${original.milestoneId} is disputed; resolve or withdraw the dispute first`;
  }
  let milestone = builder.touch(original);
  const held = milestone.held;
  milestone = evolve(
    milestone,
    {
      held: zero(milestone.currency),
      refunded: add(milestone.refunded, held),
      inspectionDeadline: null,
    },
    'CANCELLED',
  );
  const index = isPositive(held)
    ? refundHeld(builder, context, order, milestone, held, 'CANCELLED', {})
    : null;
  builder.event('MILESTONE_CANCELLED', milestone, index, { refundAmount: formatAmount(held) });
  return builder.save(milestone);
}

export function cancelMilestone(
  _command: CancelMilestone,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  const result = closeAsCancelled(builder, context, order, original);
  if (typeof result === 'string') {
    return builder.rejected('INVALID_STATE', result, aboutMilestone(order, original));
  }
  return builder.applied();
}

/** Cancels every milestone not yet released; disputed ones stay with their dispute. */
export function cancelOrder(command: CancelOrder, context: DecisionContext): Decision {
  const builder = new DecisionBuilder(command.eventId, context.now);
  const order = context.order;
  if (order === null) return { status: 'KEPT', milestones: [], transactions: [], outcomes: [] };
  if (order.state === 'CANCELLED') {
    return builder.rejected('INVALID_STATE', `order ${order.orderId} is already cancelled`, {
      orderId: order.orderId,
      milestoneId: null,
      milestoneVersion: null,
    });
  }
  const cancelled = { ...order, state: 'CANCELLED' as const };
  builder.saveOrder(cancelled);
  const leftDisputed: string[] = [];
  for (const milestone of context.milestones) {
    if (isTerminal(milestone)) continue;
    if (typeof closeAsCancelled(builder, context, cancelled, milestone) === 'string') {
      leftDisputed.push(milestone.milestoneId);
    }
  }
  builder.orderEvent('MILESTONE_CANCELLED', cancelled, { orderCancelled: true, leftDisputed });
  return builder.applied();
}
