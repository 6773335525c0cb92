/**
 * A confirmed gateway payment moves funds into escrow for its milestone. What
 * cannot be used there is never left nowhere: an order not known yet keeps the
 * payment for later, a wrong currency or funds beyond what the milestone still
 * needs are refunded at once (CONTRACT.md, payment-confirmed).
 */
import { add, formatAmount, isPositive, type Money, min, subtract } from '../money';
import { accounts } from './accounts';
import type { ConfirmPayment } from './commands';
import { type DecisionContext, findMilestone, isRejection, parseEventAmount } from './context';
import { DecisionBuilder } from './decision-builder';
import { evolve, isFullyFunded, isTerminal, stillNeeded } from './milestone';
import { releaseIfDue } from './release';
import type { Decision, Order } from './types';

const kept: Decision = { status: 'KEPT', milestones: [], transactions: [], outcomes: [] };

export function confirmPayment(command: ConfirmPayment, context: DecisionContext): Decision {
  const builder = new DecisionBuilder(command.eventId, context.now);
  const order = context.order;
  // Not known yet: kept (the payment row), applied when ORDER_OPENED arrives.
  if (order === null) return kept;
  const about = {
    orderId: order.orderId,
    milestoneId: command.milestoneId,
    milestoneVersion: null,
  };

  const amount = parseEventAmount(command.amount, command.currency, 'amount');
  if (isRejection(amount)) return builder.rejected(amount.reason, amount.message, about);

  if (command.currency !== order.currency) {
    refundUnusable(builder, order, command, amount, 'CURRENCY_MISMATCH');
    return builder.rejected(
      'CURRENCY_MISMATCH',
      `payment ${command.gateway}/${command.gatewayReference} is in ${command.currency} but order ` +
        `${order.orderId} is in ${order.currency}; it is refunded in full. Pay in ${order.currency}.`,
      about,
    );
  }

  if (command.kind === 'SERVICE_FEE') {
    builder.transfer({
      kind: 'SERVICE_FEE',
      orderId: order.orderId,
      milestoneId: command.milestoneId,
      from: accounts.gatewayClearing(amount.currency),
      to: accounts.platformRevenue(amount.currency),
      amount,
      memo: { gateway: command.gateway, gatewayReference: command.gatewayReference },
    });
    return builder.applied();
  }

  const original =
    command.milestoneId === null ? undefined : findMilestone(context, command.milestoneId);
  if (original === undefined) {
    // Milestones only arrive with their order, so this one never will: the payment
    // stays kept and unmatched for reconciliation, and upstream is told why.
    const rejection = builder.rejected(
      'UNKNOWN_MILESTONE',
      `payment ${command.gateway}/${command.gatewayReference} names milestone ` +
        `${String(command.milestoneId)}, which order ${order.orderId} does not have; it is kept ` +
        'unmatched for reconciliation. Send the milestoneId the order was opened with.',
      about,
    );
    return { ...rejection, status: 'KEPT' };
  }

  if (isTerminal(original) || order.state === 'CANCELLED') {
    refundUnusable(builder, order, command, amount, 'OVERPAYMENT');
    return builder.applied();
  }

  // A FINAL payment is the top-up for the final amount, which is known only when
  // the milestone is reached (CONTRACT.md, milestone-reached): arriving first, it
  // is held in full, not refunded as excess, and the reach refunds what the final
  // amount does not need (refundFinalTopUpExcess), so the order of the two topics
  // changes nothing.
  // During a dispute the top-up is not held back: it would only be refunded when
  // the dispute opened (disputes.ts), so it is treated as any payment.
  const awaitingFinalAmount =
    command.kind === 'FINAL' && !original.reached && original.disputeId === null;
  const used = awaitingFinalAmount ? amount : min(amount, stillNeeded(original));
  const excess = subtract(amount, used);
  let milestone = original;
  if (isPositive(used)) {
    milestone = builder.touch(original);
    const frozen = milestone.disputeId !== null;
    const { currency, orderId, milestoneId } = milestone;
    const index = builder.transfer({
      kind: 'FUNDING',
      orderId,
      milestoneId,
      from: accounts.gatewayClearing(currency),
      // During a dispute new funds are frozen with the rest.
      to: frozen
        ? accounts.disputedFunds(currency, orderId, milestoneId)
        : accounts.escrowHold(currency, orderId, milestoneId),
      amount: used,
      memo: {
        paymentKind: command.kind,
        gateway: command.gateway,
        gatewayReference: command.gatewayReference,
      },
    });
    milestone = evolve(milestone, {
      funded: add(milestone.funded, used),
      held: frozen ? milestone.held : add(milestone.held, used),
      disputed: frozen ? add(milestone.disputed, used) : milestone.disputed,
    });
    builder.event(
      isFullyFunded(milestone) ? 'MILESTONE_FUNDED' : 'MILESTONE_PARTIALLY_FUNDED',
      milestone,
      index,
      {
        paymentKind: command.kind,
        paymentAmount: formatAmount(amount),
        appliedAmount: formatAmount(used),
      },
    );
    milestone = builder.save(releaseIfDue(builder, context, order, milestone));
  }
  // Funds beyond what the milestone still needs go back to the buyer.
  if (isPositive(excess)) {
    refundUnusable(
      builder,
      order,
      command,
      excess,
      'OVERPAYMENT',
      isPositive(used) ? milestone : null,
    );
  }
  return builder.applied();
}

/** Returns money that cannot be used to the buyer: gateway clearing → refund payable. */
function refundUnusable(
  builder: DecisionBuilder,
  order: Order,
  command: ConfirmPayment,
  amount: Money,
  reason: 'OVERPAYMENT' | 'CURRENCY_MISMATCH',
  milestone: Parameters<DecisionBuilder['refund']>[0]['milestone'] = null,
): void {
  const index = builder.transfer({
    kind: reason === 'OVERPAYMENT' ? 'OVERPAYMENT_REFUND' : 'CURRENCY_MISMATCH_REFUND',
    orderId: order.orderId,
    milestoneId: command.milestoneId,
    from: accounts.gatewayClearing(amount.currency),
    to: accounts.buyerRefundPayable(amount.currency, order.buyerId),
    amount,
    memo: { reason, gateway: command.gateway, gatewayReference: command.gatewayReference },
  });
  builder.refund(
    { orderId: order.orderId, buyerId: order.buyerId, milestone },
    index,
    amount,
    reason,
    [command.gatewayReference],
  );
}
