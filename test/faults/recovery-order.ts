/**
 * An order shape of its own: a chargeback after release, recovered from the
 * provider's next release (docs/settlements.md, "Recovering a receivable").
 * Two milestones with no inspection period, so each is released in the same
 * transaction as its reached event and the driver's wait for the inbox is a
 * wait for the release. Step by step:
 *
 *   0  the order, both milestones paid in full (each one deposit)
 *   1  m1 reached: released, PAYOUT_REQUESTED gross a1, fee f1
 *   2  CHARGEBACK of part of m1's deposit: nothing is held any more, so it is
 *      taken from what m1 released; the fee on it is reversed in proportion
 *      (half-up, never more than f1) and the rest is a provider receivable
 *   3  m2 reached: its release nets the receivable first; PAYOUT_REQUESTED
 *      carries recoveredAmount, and none is published when nothing is left
 *   4  sometimes CHARGEBACK_REVERSED: the receivable still owed is cancelled,
 *      and what m2 recovered is paid back (a PAYOUT_REQUESTED on m1, no fee)
 *
 * The provider is the order's own, so no other order's release can net the
 * receivable first: every figure is exact.
 */
import type { Random } from './random';
import {
  expectedChargeback,
  type ExpectedChargeback,
  type ExpectedMilestone,
  feeOf,
  type Ids,
  proportionHalfUp,
  scenarioTools,
  share,
} from './scenario-tools';
import { amountText, type StreamMessage, streamOrderOpened } from './stream-messages';

export const recoveryScenario = 'chargebackRecovered';

export function recoveryOrder(parts: {
  rnd: Random;
  ids: Ids;
  orderId: string;
  name: (ascii: string) => string;
  /** The order's own provider: no other order's release may net its receivable. */
  providerId: string;
  currency: { code: string; min: bigint; max: bigint };
  duplicateRate: number;
}): {
  steps: StreamMessage[][];
  milestones: ExpectedMilestone[];
  chargebacks: ExpectedChargeback[];
} {
  const { rnd, ids, orderId, name, providerId, currency, duplicateRate } = parts;
  const plans = [1, 2].map((sequence) => ({
    milestoneId: name(`m${sequence}`),
    sequence,
    amount: rnd.bigint(currency.min, currency.max),
    releaseCondition: 'ANY' as const,
    inspectionPeriodSeconds: 0,
  }));
  const [first, second] = plans.map((plan) =>
    scenarioTools(recoveryScenario, {
      rnd,
      ids,
      orderId,
      milestoneId: plan.milestoneId,
      currency: currency.code,
      amount: plan.amount,
      releaseCondition: plan.releaseCondition,
      duplicateRate,
    }),
  ) as [ReturnType<typeof scenarioTools>, ReturnType<typeof scenarioTools>];
  const [a1, a2] = [plans[0]!.amount, plans[1]!.amount];
  const opened = streamOrderOpened({
    eventId: ids.event(),
    orderId,
    buyerId: name('buyer'),
    providerId,
    currency: currency.code,
    milestones: plans.map((plan) => ({ ...plan, amount: amountText(currency.code, plan.amount) })),
  });
  const paid1 = first.pay('DEPOSIT', a1);
  const paid2 = second.pay('DEPOSIT', a2);
  const pulled = share(rnd, a1, 20, 100);
  const [fee1, fee2] = [feeOf(a1), feeOf(a2)];
  const feeReversed = [fee1, proportionHalfUp(pulled, fee1, a1)].reduce((x, y) => (x < y ? x : y));
  const receivable = pulled - feeReversed;
  const net2 = a2 - fee2;
  const recovered = net2 < receivable ? net2 : receivable;
  const reversed = rnd.chance(0.4);
  const steps: StreamMessage[][] = [
    [opened, ...paid1, ...paid2],
    [first.reached()],
    first.chargeback(paid1[0]!, 'CHARGEBACK', pulled),
    [second.reached()],
  ];
  if (reversed) steps.push(first.chargeback(paid1[0]!, 'CHARGEBACK_REVERSED', pulled));
  const released = (
    tools: typeof first,
    gross: bigint,
    fee: bigint,
    payouts: ExpectedMilestone['payouts'],
  ) => tools.expect('RELEASED', { funded: gross, released: gross, fees: fee, payouts });
  return {
    steps,
    milestones: [
      released(first, a1, fee1, [
        { gross: a1, fee: fee1, recovered: 0n },
        // The reversal pays back what m2's release recovered, fee-free.
        ...(reversed && recovered > 0n ? [{ gross: recovered, fee: 0n, recovered: 0n }] : []),
      ]),
      released(second, a2, fee2, net2 > recovered ? [{ gross: a2, fee: fee2, recovered }] : []),
    ],
    chargebacks: [
      expectedChargeback(paid1[0]!, pulled, { feeReversed, receivable, recovered, reversed }),
    ],
  };
}
