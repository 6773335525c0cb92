/**
 * What the gateway or payout service says became of a payout or refund
 * escrow-worker asked for (CONTRACT.md, escrow.settlements.v1). Paid: the
 * money leaves the payable account through gateway clearing, and only the
 * exact amount asked for settles it. Failed: nothing moves, the request is
 * marked failed and stays payable until an operator asks again. Each request
 * is settled at most once: a second settlement is refused INVALID_STATE.
 */
import { compare, formatAmount } from '../money';
import { accounts } from './accounts';
import type { Settle } from './commands';
import { type DecisionContext, findMilestone, isRejection, parseEventAmount } from './context';
import { DecisionBuilder } from './decision-builder';
import type { Decision, Disbursement, Order } from './types';

type DisbursementSettlement = Settle & {
  type: 'PAYOUT_PAID' | 'PAYOUT_FAILED' | 'REFUND_PAID' | 'REFUND_FAILED';
};

const settledType = {
  PAYOUT_PAID: 'PAYOUT_SETTLED',
  PAYOUT_FAILED: 'PAYOUT_FAILED',
  REFUND_PAID: 'REFUND_SETTLED',
  REFUND_FAILED: 'REFUND_FAILED',
} as const;

export function settleDisbursement(
  command: DisbursementSettlement,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
): Decision {
  const kind = command.type.startsWith('PAYOUT') ? 'PAYOUT' : 'REFUND';
  const asked = kind === 'PAYOUT' ? 'PAYOUT_REQUESTED' : 'REFUND_REQUESTED';
  const outcomeId = command.outcomeId!;
  const disbursement = context.disbursements?.get(outcomeId);
  const about = {
    orderId: order.orderId,
    milestoneId: command.milestoneId,
    milestoneVersion: null,
  };
  // Not known (yet): kept, like a payment before its order; reconciliation lists it.
  if (disbursement === undefined) return builder.kept(`outcome:${outcomeId}`);
  const named = `${command.type} ${command.gateway}/${command.gatewayReference}`;
  if (disbursement.orderId !== order.orderId || disbursement.kind !== kind) {
    return builder.rejected(
      'SETTLEMENT_MISMATCH',
      `${named} names outcome ${outcomeId}, which is a ${disbursement.kind} of order ` +
        `${disbursement.orderId}, not a ${kind} of order ${order.orderId}; send the outcomeId of the ` +
        `${asked} this settles`,
      about,
    );
  }
  if (disbursement.state !== 'REQUESTED') {
    return builder.rejected(
      'INVALID_STATE',
      `${named}: ${asked} ${outcomeId} is ${disbursement.state} already; a request is settled once ` +
        (disbursement.state === 'FAILED'
          ? `(retry it with escrow-worker ${kind === 'PAYOUT' ? 'payouts' : 'refunds'} retry, then settle the new request)`
          : '(settle the request that is open now)'),
      about,
    );
  }
  const amount = parseEventAmount(command.amount, command.currency, 'amount');
  if (isRejection(amount)) return builder.rejected(amount.reason, amount.message, about);
  if (
    amount.currency !== disbursement.amount.currency ||
    compare(amount, disbursement.amount) !== 0
  ) {
    return builder.rejected(
      'SETTLEMENT_MISMATCH',
      `${named} is for ${formatAmount(amount)} ${amount.currency}, but ${asked} ${outcomeId} asked for ` +
        `${formatAmount(disbursement.amount)} ${disbursement.amount.currency}; nothing moved. Settle the ` +
        'exact amount requested',
      about,
    );
  }
  const paid = command.type.endsWith('_PAID');
  const index = paid ? settlePaid(builder, order, disbursement, command) : null;
  builder.settle({
    outcomeId,
    state: paid ? 'PAID' : 'FAILED',
    reason: paid ? null : command.reason,
    gateway: command.gateway,
    gatewayReference: command.gatewayReference,
  });
  const extra = {
    settledOutcomeId: outcomeId,
    partyId: disbursement.partyId,
    settledAmount: formatAmount(amount),
    settledCurrency: amount.currency,
    gateway: command.gateway,
    gatewayReference: command.gatewayReference,
    ...(paid ? {} : { failureReason: command.reason }),
  };
  const milestone =
    disbursement.milestoneId === null
      ? undefined
      : findMilestone(context, disbursement.milestoneId);
  if (milestone) builder.event(settledType[command.type], milestone, index, extra);
  else builder.orderEvent(settledType[command.type], order, extra);
  return builder.applied();
}

/** The money leaves: payable → gateway clearing. */
function settlePaid(
  builder: DecisionBuilder,
  order: Order,
  disbursement: Disbursement,
  command: Settle,
): number {
  const { currency } = disbursement.amount;
  return builder.transfer({
    kind: disbursement.kind === 'PAYOUT' ? 'PAYOUT_SETTLEMENT' : 'REFUND_SETTLEMENT',
    orderId: order.orderId,
    milestoneId: disbursement.milestoneId,
    from:
      disbursement.kind === 'PAYOUT'
        ? accounts.providerPayable(currency, disbursement.partyId)
        : accounts.buyerRefundPayable(currency, disbursement.partyId),
    to: accounts.gatewayClearing(currency),
    amount: disbursement.amount,
    memo: {
      outcomeId: disbursement.outcomeId,
      gateway: command.gateway,
      gatewayReference: command.gatewayReference,
    },
  });
}
