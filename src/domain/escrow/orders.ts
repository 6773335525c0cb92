/**
 * ORDER_OPENED creates the order and its milestones in PENDING_FUNDING. Every
 * amount is checked against the order's currency before anything is created,
 * so an order opens whole or not at all.
 */
import { assertCurrency, formatAmount, MoneyError, type Money, zero } from '../money';
import type { OpenOrder } from './commands';
import { type DecisionContext, isRejection, parseEventAmount } from './context';
import { DecisionBuilder } from './decision-builder';
import type { Decision, Milestone, Order } from './types';

export function openOrder(command: OpenOrder, context: DecisionContext): Decision {
  const builder = new DecisionBuilder(command.eventId, context.now);
  const about = { orderId: command.orderId, milestoneId: null, milestoneVersion: null };
  if (context.order !== null) {
    return builder.rejected(
      'INVALID_STATE',
      `order ${command.orderId} is already open (opened by another event); an order opens once`,
      about,
    );
  }
  try {
    assertCurrency(command.currency);
  } catch (error) {
    if (error instanceof MoneyError)
      return builder.rejected('UNKNOWN_CURRENCY', error.message, about);
    throw error;
  }
  const ids = command.milestones.map((plan) => plan.milestoneId);
  if (ids.length === 0 || new Set(ids).size !== ids.length) {
    return builder.rejected(
      'INVALID_ORDER',
      `order ${command.orderId} needs at least one milestone and unique milestoneIds (got ${ids.join(', ') || 'none'})`,
      about,
    );
  }

  const amounts: Money[] = [];
  for (const [index, plan] of command.milestones.entries()) {
    const amount = parseEventAmount(plan.amount, command.currency, `milestones[${index}].amount`);
    if (isRejection(amount)) return builder.rejected(amount.reason, amount.message, about);
    amounts.push(amount);
  }

  const order: Order = {
    orderId: command.orderId,
    buyerId: command.buyerId,
    providerId: command.providerId,
    currency: command.currency,
    state: 'OPEN',
  };
  builder.saveOrder(order);
  const none = zero(command.currency);
  command.milestones.forEach((plan, index) => {
    const amount = amounts[index]!;
    const milestone: Milestone = {
      orderId: order.orderId,
      milestoneId: plan.milestoneId,
      sequence: plan.sequence,
      currency: order.currency,
      originalAmount: amount,
      amount,
      releaseCondition: plan.releaseCondition,
      inspectionPeriodSeconds: plan.inspectionPeriodSeconds,
      state: 'PENDING_FUNDING',
      version: 1,
      funded: none,
      held: none,
      disputed: none,
      released: none,
      fees: none,
      refunded: none,
      reached: false,
      reachedCondition: null,
      finalAmount: null,
      inspectionDeadline: null,
      inspectionRemainingMs: null,
      disputeId: null,
    };
    builder.save(milestone);
  });
  builder.orderEvent('ORDER_OPENED', order, {
    buyerId: order.buyerId,
    providerId: order.providerId,
    milestones: command.milestones.map((plan, index) => ({
      milestoneId: plan.milestoneId,
      sequence: plan.sequence,
      amount: formatAmount(amounts[index]!),
      releaseCondition: plan.releaseCondition,
      inspectionPeriodSeconds: plan.inspectionPeriodSeconds,
    })),
  });
  return builder.applied();
}
