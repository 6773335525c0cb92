/**
 * The buyer's bank pulled back (part of) a payment (CONTRACT.md,
 * escrow.settlements.v1: CHARGEBACK). The money is taken, in this order,
 * from what the payment's milestone still holds, from its disputed funds,
 * and from what it released: the platform's fee on that part is reversed
 * from revenue (the platform does not profit from a charged-back sale) and
 * the provider's part becomes a provider receivable that later releases net
 * (recovery.ts). What none of these covers (a payment refunded already, a
 * service fee) is the platform's loss, from revenue. A milestone whose hold
 * shrank needs funding again. CHARGEBACK_REVERSED undoes every effect with
 * new transactions: the money returns to the milestone (or to the buyer),
 * the fee to revenue, the receivable is cancelled and what was recovered
 * already is paid back to the provider.
 */
import {
  add,
  compare,
  divideRoundingHalfUp,
  formatAmount,
  isPositive,
  type Money,
  min,
  money,
  negate,
  subtract,
  zero,
} from '../money';
import { accounts } from './accounts';
import type { Settle } from './commands';
import { type DecisionContext, findMilestone, isRejection, parseEventAmount } from './context';
import type { DecisionBuilder } from './decision-builder';
import { paymentKey } from './idempotency';
import { evolve, isTerminal, stillNeeded } from './milestone';
import { outstanding } from './recovery';
import { releaseIfDue } from './release';
import type { Chargeback, Decision, Milestone, Order, Posting } from './types';

type ChargebackSettlement = Settle & { type: 'CHARGEBACK' | 'CHARGEBACK_REVERSED' };

export function settleChargeback(
  command: ChargebackSettlement,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
): Decision {
  const key = paymentKey(command.gateway, command.gatewayReference);
  const payment = context.payments?.get(key);
  const about = {
    orderId: order.orderId,
    milestoneId: command.milestoneId,
    milestoneVersion: null,
  };
  const named = `${command.type} ${command.gateway}/${command.gatewayReference}`;
  // The payment may still be on its way (another topic): kept until it is applied.
  if (payment === undefined) return builder.kept(key);
  if (payment.orderId !== order.orderId) {
    return builder.rejected(
      'SETTLEMENT_MISMATCH',
      `${named} names payment ${command.gateway}/${command.gatewayReference} of order ` +
        `${payment.orderId}, not of order ${order.orderId}; send the payment's own orderId`,
      about,
    );
  }
  const amount = parseEventAmount(command.amount, command.currency, 'amount');
  if (isRejection(amount)) return builder.rejected(amount.reason, amount.message, about);
  const existing = context.chargebacks?.get(key);
  if (command.type === 'CHARGEBACK_REVERSED') {
    if (existing === undefined || existing.reversed) {
      return builder.rejected(
        'INVALID_STATE',
        `${named}: payment ${command.gatewayReference} has ${existing ? 'a chargeback reversed already' : 'no chargeback'} ` +
          'to reverse; send CHARGEBACK_REVERSED only for a chargeback that stands',
        about,
      );
    }
    if (amount.currency !== existing.amount.currency || compare(amount, existing.amount) !== 0) {
      return builder.rejected(
        'SETTLEMENT_MISMATCH',
        `${named} is for ${formatAmount(amount)} ${amount.currency}, but the chargeback was ` +
          `${formatAmount(existing.amount)} ${existing.amount.currency}; a reversal returns the whole chargeback`,
        about,
      );
    }
    return reverse(builder, context, order, builder.chargeback(existing), command);
  }
  if (existing !== undefined) {
    return builder.rejected(
      'INVALID_STATE',
      `${named}: payment ${command.gatewayReference} was charged back already; one chargeback per payment`,
      about,
    );
  }
  if (amount.currency !== payment.amount.currency || compare(amount, payment.amount) > 0) {
    return builder.rejected(
      'SETTLEMENT_MISMATCH',
      `${named} is for ${formatAmount(amount)} ${amount.currency}, more than or not in the currency of ` +
        `the ${formatAmount(payment.amount)} ${payment.amount.currency} payment it names; a chargeback ` +
        'pulls back at most the payment',
      about,
    );
  }
  // Only what the payment brought into its milestone can be taken back from it: what was
  // refunded at once (an overpayment, another currency than the order's) never reached it,
  // so, like a service fee, a chargeback of that part is the platform's loss.
  const milestone =
    payment.milestoneId === null ||
    payment.amount.currency !== order.currency ||
    !isPositive(payment.applied)
      ? undefined
      : findMilestone(context, payment.milestoneId);
  return apply(
    builder,
    context,
    order,
    milestone,
    key,
    amount,
    min(amount, payment.applied),
    command,
  );
}

function apply(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  read: Milestone | undefined,
  key: string,
  amount: Money,
  fromMilestoneAtMost: Money,
  command: ChargebackSettlement,
): Decision {
  const { currency } = amount;
  const none = zero(currency);
  const sources = read ? sourcesOn(read, fromMilestoneAtMost, context) : undefined;
  const fromHeld = sources?.fromHeld ?? none;
  const fromDisputed = sources?.fromDisputed ?? none;
  const feeReversed = sources?.feeReversed ?? none;
  const receivable = sources?.receivable ?? none;
  const fromPlatform = subtract(
    amount,
    add(add(fromHeld, fromDisputed), add(feeReversed, receivable)),
  );
  const postings: Posting[] = [{ account: accounts.gatewayClearing(currency), amount }];
  const take = (account: Posting['account'], part: Money) => {
    if (isPositive(part)) postings.push({ account, amount: negate(part) });
  };
  if (read) {
    take(accounts.escrowHold(currency, order.orderId, read.milestoneId), fromHeld);
    take(accounts.disputedFunds(currency, order.orderId, read.milestoneId), fromDisputed);
  }
  take(accounts.platformRevenue(currency), add(feeReversed, fromPlatform));
  take(accounts.providerReceivable(currency, order.providerId), receivable);
  const index = builder.post({
    kind: 'CHARGEBACK',
    orderId: order.orderId,
    milestoneId: read?.milestoneId ?? null,
    postings,
    memo: { gateway: command.gateway, gatewayReference: command.gatewayReference },
  });
  const chargeback: Chargeback = {
    paymentKey: key,
    gateway: command.gateway,
    gatewayReference: command.gatewayReference,
    orderId: order.orderId,
    milestoneId: read?.milestoneId ?? null,
    providerId: order.providerId,
    buyerId: order.buyerId,
    amount,
    fromHeld,
    fromDisputed,
    feeReversed,
    receivable,
    fromPlatform,
    recovered: none,
    reversed: false,
  };
  builder.saveChargeback(chargeback);
  const extra = { ...chargebackFigures(chargeback), providerId: order.providerId };
  if (read === undefined) {
    builder.orderEvent('CHARGEBACK_APPLIED', order, extra);
    return builder.applied();
  }
  const pulled = add(fromHeld, fromDisputed);
  // Held or disputed money taken: the milestone needs funding again (a new version).
  const milestone = isPositive(pulled)
    ? builder.save(
        evolve(builder.touch(read), {
          held: subtract(read.held, fromHeld),
          disputed: subtract(read.disputed, fromDisputed),
          funded: subtract(read.funded, pulled),
        }),
      )
    : read;
  builder.event('CHARGEBACK_APPLIED', milestone, index, extra);
  return builder.applied();
}

/**
 * Where a chargeback of `amount` on this milestone comes from: held first,
 * then disputed, then what was released and not charged back already, the
 * fee part of that in proportion to the fees still standing (rounded half-up,
 * never more than they are).
 */
function sourcesOn(milestone: Milestone, amount: Money, context: DecisionContext) {
  const { currency } = amount;
  const fromHeld = min(amount, milestone.held);
  const fromDisputed = min(subtract(amount, fromHeld), milestone.disputed);
  let releasedLeft = milestone.released;
  let feesLeft = milestone.fees;
  for (const other of context.chargebacks?.values() ?? []) {
    if (other.reversed || other.milestoneId !== milestone.milestoneId) continue;
    if (other.orderId !== milestone.orderId) continue;
    releasedLeft = subtract(releasedLeft, add(other.feeReversed, other.receivable));
    feesLeft = subtract(feesLeft, other.feeReversed);
  }
  const fromReleased = min(subtract(amount, add(fromHeld, fromDisputed)), releasedLeft);
  const feeReversed = isPositive(fromReleased)
    ? min(
        feesLeft,
        money(
          currency,
          divideRoundingHalfUp(fromReleased.minor * feesLeft.minor, releasedLeft.minor),
        ),
      )
    : zero(currency);
  return { fromHeld, fromDisputed, feeReversed, receivable: subtract(fromReleased, feeReversed) };
}

function reverse(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  chargeback: Chargeback,
  command: ChargebackSettlement,
): Decision {
  const { currency } = chargeback.amount;
  const stillOwed = outstanding(chargeback);
  const returned = add(chargeback.fromHeld, chargeback.fromDisputed);
  const read =
    chargeback.milestoneId === null ? undefined : findMilestone(context, chargeback.milestoneId);
  const postings: Posting[] = [
    { account: accounts.gatewayClearing(currency), amount: negate(chargeback.amount) },
  ];
  const credit = (account: Posting['account'], part: Money) => {
    if (isPositive(part)) postings.push({ account, amount: part });
  };
  credit(accounts.platformRevenue(currency), add(chargeback.feeReversed, chargeback.fromPlatform));
  credit(accounts.providerReceivable(currency, chargeback.providerId), stillOwed);
  credit(accounts.providerPayable(currency, chargeback.providerId), chargeback.recovered);
  // The held and disputed parts go back where the milestone can use them, the rest to the buyer.
  const usable =
    read && !isTerminal(read) && order.state === 'OPEN'
      ? min(returned, stillNeeded(read))
      : zero(currency);
  const toBuyer = subtract(returned, usable);
  if (read && isPositive(usable)) {
    credit(
      read.disputeId === null
        ? accounts.escrowHold(currency, order.orderId, read.milestoneId)
        : accounts.disputedFunds(currency, order.orderId, read.milestoneId),
      usable,
    );
  }
  credit(accounts.buyerRefundPayable(currency, order.buyerId), toBuyer);
  const index = builder.post({
    kind: 'CHARGEBACK_REVERSAL',
    orderId: order.orderId,
    milestoneId: chargeback.milestoneId,
    postings,
    memo: { gateway: command.gateway, gatewayReference: command.gatewayReference },
  });
  const reversed: Chargeback = { ...chargeback, reversed: true };
  builder.saveChargeback(reversed);
  let milestone = read;
  if (read && isPositive(usable)) {
    const frozen = read.disputeId !== null;
    milestone = builder.save(
      evolve(builder.touch(read), {
        funded: add(read.funded, usable),
        held: frozen ? read.held : add(read.held, usable),
        disputed: frozen ? add(read.disputed, usable) : read.disputed,
      }),
    );
  }
  const extra = {
    ...chargebackFigures(reversed),
    providerId: chargeback.providerId,
    returnedToMilestone: formatAmount(usable),
    refundedToBuyer: formatAmount(toBuyer),
    repaidToProvider: formatAmount(chargeback.recovered),
    receivableCancelled: formatAmount(stillOwed),
  };
  if (milestone) builder.event('CHARGEBACK_REVERSED', milestone, index, extra);
  else builder.orderEvent('CHARGEBACK_REVERSED', order, extra);
  if (isPositive(chargeback.recovered)) {
    builder.payout(order, milestone ?? null, index, {
      gross: chargeback.recovered,
      fee: zero(currency),
      net: chargeback.recovered,
    });
  }
  if (isPositive(toBuyer)) {
    builder.refund(
      { orderId: order.orderId, buyerId: order.buyerId, milestone: milestone ?? null },
      index,
      toBuyer,
      'OVERPAYMENT',
      [chargeback.gatewayReference],
    );
  }
  // Funded again in full, the milestone may be due now.
  if (milestone && isPositive(usable))
    builder.save(releaseIfDue(builder, context, order, milestone));
  return builder.applied();
}

function chargebackFigures(chargeback: Chargeback) {
  return {
    gateway: chargeback.gateway,
    gatewayReference: chargeback.gatewayReference,
    chargebackAmount: formatAmount(chargeback.amount),
    fromHeld: formatAmount(chargeback.fromHeld),
    fromDisputed: formatAmount(chargeback.fromDisputed),
    feeReversed: formatAmount(chargeback.feeReversed),
    receivable: formatAmount(chargeback.receivable),
    fromPlatform: formatAmount(chargeback.fromPlatform),
  };
}
