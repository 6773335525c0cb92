/**
 * A milestone never holds more than it is worth: when its amount drops below
 * what is held (a finalAmount lower than the estimate), the difference goes
 * back to the buyer as PARTIAL_COMPLETION. Reached calls this at once; a
 * dispute defers it until withdrawn; the release checks it again, so no path
 * can release more than the milestone's amount.
 */
import { add, compare, formatAmount, subtract } from '../money';
import { accounts } from './accounts';
import type { DecisionContext } from './context';
import type { DecisionBuilder } from './decision-builder';
import { evolve } from './milestone';
import type { Milestone, Order } from './types';

export function refundExcessHeld(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  milestone: Milestone,
): Milestone {
  if (milestone.disputeId !== null || compare(milestone.held, milestone.amount) <= 0) {
    return milestone;
  }
  const excess = subtract(milestone.held, milestone.amount);
  const { currency, orderId, milestoneId } = milestone;
  const index = builder.transfer({
    kind: 'REFUND',
    orderId,
    milestoneId,
    from: accounts.escrowHold(currency, orderId, milestoneId),
    to: accounts.buyerRefundPayable(currency, order.buyerId),
    amount: excess,
    memo: {
      reason: 'PARTIAL_COMPLETION',
      finalAmount: formatAmount(milestone.amount),
      originalAmount: formatAmount(milestone.originalAmount),
    },
  });
  const after = evolve(milestone, {
    held: milestone.amount,
    refunded: add(milestone.refunded, excess),
  });
  builder.event('FUNDS_REFUNDED', after, index, {
    refundAmount: formatAmount(excess),
    reason: 'PARTIAL_COMPLETION',
  });
  builder.refund(
    { orderId, buyerId: order.buyerId, milestone: after },
    index,
    excess,
    'PARTIAL_COMPLETION',
    context.fundingReferences[milestoneId] ?? [],
  );
  return after;
}
