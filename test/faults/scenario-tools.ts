/**
 * The vocabulary of the scenarios (scenarios.ts): their kinds and weights,
 * what a milestone is expected to end as, and the builders every scenario
 * uses for its events: a payment (sometimes retried by its gateway), a
 * reached event, an expectation. Fees are computed here, apart from the
 * worker, at the default 10% half-up.
 */
import type { Random } from './random';
import {
  amountText,
  retriedCallback,
  type StreamMessage,
  streamPayment,
  streamReached,
} from './stream-messages';

export const scenarioKinds = [
  'release',
  'overpaid',
  'partialRefund',
  'partialCompletion',
  'disputeResolved',
  'disputeWithdrawn',
  'cancelled',
  'unfinished',
] as const;
export type ScenarioKind = (typeof scenarioKinds)[number];

/** How often each scenario appears: mostly plain releases, as on a real marketplace. */
export const scenarioWeights: Record<ScenarioKind, number> = {
  release: 45,
  overpaid: 7,
  partialRefund: 10,
  partialCompletion: 8,
  disputeResolved: 8,
  disputeWithdrawn: 6,
  cancelled: 6,
  unfinished: 10,
};

export interface ExpectedMilestone {
  orderId: string;
  milestoneId: string;
  scenario: ScenarioKind;
  state: string;
  funded: bigint;
  held: bigint;
  disputed: bigint;
  released: bigint;
  fees: bigint;
  refunded: bigint;
}

export interface Ids {
  event(): string;
  reference(): string;
  dispute(): string;
}

export interface MilestoneContext {
  rnd: Random;
  ids: Ids;
  orderId: string;
  milestoneId: string;
  currency: string;
  amount: bigint;
  releaseCondition: 'DELIVERY_CONFIRMED' | 'REPORT_SUBMITTED' | 'BUYER_APPROVED' | 'ANY';
  /** Share of gateway callbacks sent twice (about 5%). */
  duplicateRate: number;
}

export interface MilestoneScript {
  phases: StreamMessage[][];
  expected: ExpectedMilestone;
}

/** The platform fee at the default 10%: half-up to the minor unit, computed apart from the worker. */
export const feeOf = (gross: bigint): bigint => (gross + 5n) / 10n;

/** A share of `total` between the two fractions (in percent), at least 1 minor unit and below total. */
export function share(rnd: Random, total: bigint, fromPercent: number, toPercent: number): bigint {
  const part = (total * BigInt(rnd.int(fromPercent, toPercent))) / 100n;
  return part < 1n ? 1n : part >= total ? total - 1n : part;
}

/** The builders one milestone's scenario sends and expects with. */
export function scenarioTools(kind: ScenarioKind, c: MilestoneContext) {
  const { rnd, ids, orderId, milestoneId, currency } = c;
  const gateway = rnd.pick(['stripe', 'adyen', 'paypal']);
  const pay = (kind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL', minor: bigint): StreamMessage[] => {
    const payment = streamPayment({
      eventId: ids.event(),
      gateway,
      gatewayReference: ids.reference(),
      orderId,
      milestoneId,
      kind,
      amount: amountText(currency, minor),
      currency,
    });
    // Sent right behind the original (same key, same partition), so it is the retry that is absorbed.
    return rnd.chance(c.duplicateRate)
      ? [payment, retriedCallback(payment, ids.event())]
      : [payment];
  };
  const reached = (finalAmount?: bigint) =>
    streamReached({
      eventId: ids.event(),
      orderId,
      milestoneId,
      condition:
        c.releaseCondition === 'ANY'
          ? rnd.pick(['DELIVERY_CONFIRMED', 'BUYER_APPROVED'])
          : c.releaseCondition,
      ...(finalAmount === undefined ? {} : { finalAmount: amountText(currency, finalAmount) }),
    });
  const expect = (
    state: string,
    totals: Partial<Omit<ExpectedMilestone, 'state'>>,
  ): ExpectedMilestone => ({
    orderId,
    milestoneId,
    scenario: kind,
    state,
    funded: 0n,
    held: 0n,
    disputed: 0n,
    released: 0n,
    fees: 0n,
    refunded: 0n,
    ...totals,
  });
  const released = (gross: bigint, funded: bigint, refunded = 0n) =>
    expect('RELEASED', { funded, released: gross, fees: feeOf(gross), refunded });
  return { pay, reached, expect, released };
}
