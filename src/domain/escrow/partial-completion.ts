/**
 * A reached milestone never holds more than it is worth: when its amount
 * drops below what is held (a finalAmount lower than the estimate), the
 * difference goes back to the buyer as PARTIAL_COMPLETION. Reached calls this
 * at once; a dispute defers it until withdrawn; the release checks it again,
 * so no path can release more than the milestone's amount.
 *
 * The one time a milestone holds more than its amount is before it is
 * reached, when a FINAL payment arrived first (funding.ts): the top-up waits
 * for the final amount. At the reach, what it brought beyond both the final
 * amount and the estimate goes back as OVERPAYMENT (refundFinalTopUpExcess),
 * as the same payment would have been refunded had it come after the reach.
 */
import { add, compare, formatAmount, type Money, max, subtract } from '../money';
import { accounts } from './accounts';
import type { DecisionContext } from './context';
import type { DecisionBuilder } from './decision-builder';
import { evolve } from './milestone';
import { pendingFields, pendingRelease } from './pending-release';
import type { Milestone, Order, RefundReason } from './types';

/** Held beyond max(final amount, estimate before the reach): a FINAL top-up nothing needs. */
export function refundFinalTopUpExcess(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  milestone: Milestone,
  amountBeforeReach: Money,
): Milestone {
  const ceiling = max(milestone.amount, amountBeforeReach);
  if (milestone.disputeId !== null || compare(milestone.held, ceiling) <= 0) return milestone;
  return refundFromHold(
    builder,
    context,
    order,
    milestone,
    subtract(milestone.held, ceiling),
    'OVERPAYMENT',
  );
}

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
  return refundFromHold(builder, context, order, milestone, excess, 'PARTIAL_COMPLETION');
}

function refundFromHold(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  milestone: Milestone,
  excess: Money,
  reason: Extract<RefundReason, 'PARTIAL_COMPLETION' | 'OVERPAYMENT'>,
): Milestone {
  const { currency, orderId, milestoneId } = milestone;
  const index = builder.transfer({
    kind: 'REFUND',
    orderId,
    milestoneId,
    from: accounts.escrowHold(currency, orderId, milestoneId),
    to: accounts.buyerRefundPayable(currency, order.buyerId),
    amount: excess,
    memo: {
      reason,
      finalAmount: formatAmount(milestone.amount),
      originalAmount: formatAmount(milestone.originalAmount),
    },
  });
  const after = evolve(milestone, {
    held: subtract(milestone.held, excess),
    refunded: add(milestone.refunded, excess),
  });
  builder.event('FUNDS_REFUNDED', after, index, {
    refundAmount: formatAmount(excess),
    reason,
    ...pendingFields(pendingRelease(after, context)),
  });
  builder.refund(
    { orderId, buyerId: order.buyerId, milestone: after },
    index,
    excess,
    reason,
    context.fundingReferences[milestoneId] ?? [],
  );
  return after;
}
