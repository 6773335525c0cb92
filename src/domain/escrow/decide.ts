/**
 * The one entry point: (command, context) → decision. Commands on a milestone
 * share their guards here: an order not known yet keeps the command for later,
 * an unknown milestone or a stale expectedVersion is rejected before any rule
 * runs, and a terminal milestone refuses everything but the timer.
 */
import { settleChargeback } from './chargebacks';
import type { EscrowCommand, MilestoneCommand, Settle } from './commands';
import { type DecisionContext, findMilestone } from './context';
import { aboutMilestone, DecisionBuilder } from './decision-builder';
import { openDispute, resolveDispute, withdrawDispute } from './disputes';
import { confirmPayment } from './funding';
import { isSettlement } from './idempotency';
import { isTerminal } from './milestone';
import { openOrder } from './orders';
import { inspectionElapsed, markReached } from './reached';
import { cancelMilestone, cancelOrder, requestRefund } from './refunds';
import { settleDisbursement } from './settlements';
import type { Decision } from './types';

export function decide(command: EscrowCommand, context: DecisionContext): Decision {
  switch (command.type) {
    case 'ORDER_OPENED':
      return openOrder(command, context);
    case 'PAYMENT_CONFIRMED':
      return confirmPayment(command, context);
    case 'ORDER_CANCELLED':
      return cancelOrder(command, context);
    default:
      return isSettlement(command)
        ? settle(command, context)
        : decideForMilestone(command, context);
  }
}

/**
 * A settlement: kept while its order is unknown; a settlement names money
 * that moved already, so a cancelled order or a terminal milestone never
 * refuses it.
 */
function settle(command: Settle, context: DecisionContext): Decision {
  const order = context.order;
  if (order === null) return { ...unchanged, status: 'KEPT' };
  const builder = new DecisionBuilder(command.eventId, context.now);
  switch (command.type) {
    case 'CHARGEBACK':
    case 'CHARGEBACK_REVERSED':
      return settleChargeback({ ...command, type: command.type }, context, builder, order);
    default:
      return settleDisbursement({ ...command, type: command.type }, context, builder, order);
  }
}

const unchanged: Decision = { status: 'UNCHANGED', milestones: [], transactions: [], outcomes: [] };

function decideForMilestone(command: MilestoneCommand, context: DecisionContext): Decision {
  const builder = new DecisionBuilder(command.eventId, context.now);
  const order = context.order;
  // Events of different topics race: one for an order not opened yet waits for it.
  if (order === null) return { ...unchanged, status: 'KEPT' };
  const milestone = findMilestone(context, command.milestoneId);
  if (milestone === undefined) {
    return builder.rejected(
      'UNKNOWN_MILESTONE',
      `order ${order.orderId} has no milestone ${command.milestoneId}; use a milestoneId it was opened with`,
      { orderId: order.orderId, milestoneId: command.milestoneId, milestoneVersion: null },
    );
  }
  if (command.type === 'INSPECTION_ELAPSED') {
    return isTerminal(milestone)
      ? unchanged
      : inspectionElapsed(command, context, builder, order, milestone);
  }
  const about = aboutMilestone(order, milestone);
  const expected = command.expectedVersion;
  if (expected !== undefined && expected !== null && expected !== milestone.version) {
    return builder.rejected(
      'CONFLICT',
      `${command.type} expected milestone ${milestone.milestoneId} at version ${expected}, but it is at ` +
        `version ${milestone.version}; re-read it and decide again`,
      about,
    );
  }
  const afterCancellation = ['DISPUTE_WITHDRAWN', 'DISPUTE_RESOLVED'];
  if (order.state === 'CANCELLED' && !afterCancellation.includes(command.type)) {
    return builder.rejected(
      'INVALID_STATE',
      `order ${order.orderId} is cancelled; only its open disputes can still be withdrawn or resolved`,
      about,
    );
  }
  if (isTerminal(milestone)) {
    return builder.rejected(
      'INVALID_STATE',
      `milestone ${milestone.milestoneId} is ${milestone.state}; ${command.type} no longer applies`,
      about,
    );
  }
  switch (command.type) {
    case 'MILESTONE_REACHED':
      return markReached(command, context, builder, order, milestone);
    case 'REFUND_REQUESTED':
      return requestRefund(command, context, builder, order, milestone);
    case 'MILESTONE_CANCELLED':
      return cancelMilestone(command, context, builder, order, milestone);
    case 'DISPUTE_OPENED':
      return openDispute(command, context, builder, order, milestone);
    case 'DISPUTE_WITHDRAWN':
      return withdrawDispute(command, context, builder, order, milestone);
    case 'DISPUTE_RESOLVED':
      return resolveDispute(command, context, builder, order, milestone);
  }
}
