/**
 * A provider who owes the platform (a chargeback after release left a
 * provider receivable) is paid only what is left after the debt: every
 * release to that provider, of any order, nets the receivable first, oldest
 * chargeback first. A release smaller than what is owed is recovered in full
 * and pays nothing (CONTRACT.md, settlements: CHARGEBACK).
 */
import { add, isPositive, min, type Money, subtract, zero } from '../money';
import { accounts } from './accounts';
import type { DecisionContext } from './context';
import type { DecisionBuilder } from './decision-builder';
import type { Chargeback, Order, Posting } from './types';

export interface Recovery {
  /** What the provider is paid: net − recovered. */
  readonly paid: Money;
  readonly recovered: Money;
}

/** What is still owed on a chargeback: its receivable less what releases netted. */
export const outstanding = (chargeback: Chargeback): Money =>
  chargeback.reversed
    ? zero(chargeback.amount.currency)
    : subtract(chargeback.receivable, chargeback.recovered);

/**
 * Nets `net` (the provider's part of a release) against the provider's
 * receivables in the context, records each chargeback's new recovered total
 * with the builder, and returns the postings that credit the provider: the
 * payable with what is paid, the receivable with what is recovered.
 */
export function recoverFromRelease(
  builder: DecisionBuilder,
  context: DecisionContext,
  order: Order,
  net: Money,
): Recovery & { postings: Posting[] } {
  let left = net;
  for (const read of context.receivables ?? []) {
    if (!isPositive(left)) break;
    const chargeback = builder.chargeback(read);
    if (chargeback.providerId !== order.providerId || chargeback.amount.currency !== net.currency)
      continue;
    const taken = min(left, outstanding(chargeback));
    if (!isPositive(taken)) continue;
    builder.saveChargeback({ ...chargeback, recovered: add(chargeback.recovered, taken) });
    left = subtract(left, taken);
  }
  const recovered = subtract(net, left);
  const postings: Posting[] = [];
  if (isPositive(left))
    postings.push({
      account: accounts.providerPayable(net.currency, order.providerId),
      amount: left,
    });
  if (isPositive(recovered))
    postings.push({
      account: accounts.providerReceivable(net.currency, order.providerId),
      amount: recovered,
    });
  return { paid: left, recovered, postings };
}
