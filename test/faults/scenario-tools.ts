/**
 * The vocabulary of the scenarios (scenarios.ts): their kinds and weights,
 * what a milestone is expected to end as, and the builders every scenario
 * uses for its events: a payment (sometimes retried by its gateway), a
 * reached event, an expectation. Fees are computed here, apart from the
 * worker, at the default 10% half-up.
 */
import type { RefundReason } from '../../src/domain/escrow';
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
  /** The PAYOUT_REQUESTED outcomes this milestone must publish, once each. */
  payouts: ExpectedPayout[];
  /** The REFUND_REQUESTED outcomes this milestone must publish, once each. */
  refunds: ExpectedRefund[];
}

/** A payout as downstream receives it; net = gross - fee. */
export interface ExpectedPayout {
  gross: bigint;
  fee: bigint;
}

export interface ExpectedRefund {
  currency: string;
  amount: bigint;
  /** The contract's reasons, as the refunds topic carries them. */
  reason: RefundReason;
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
    payouts: [],
    refunds: [],
    ...totals,
  });
  /** A refund of `amount` in the milestone's currency, when there is one to make. */
  const refund = (amount: bigint, reason: ExpectedRefund['reason']): ExpectedRefund[] =>
    amount > 0n ? [{ currency, amount, reason }] : [];
  /** A payout of `gross` at the default fee, when there is one to make. */
  const payout = (gross: bigint): ExpectedPayout[] =>
    gross > 0n ? [{ gross, fee: feeOf(gross) }] : [];
  const released = (gross: bigint, funded: bigint, refunds: ExpectedRefund[] = []) =>
    expect('RELEASED', {
      funded,
      released: gross,
      fees: feeOf(gross),
      refunded: refunds.reduce((sum, r) => (r.reason === 'OVERPAYMENT' ? sum : sum + r.amount), 0n),
      payouts: payout(gross),
      refunds,
    });
  return { pay, reached, expect, released, refund, payout };
}
