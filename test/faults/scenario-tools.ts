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
  redeliveredSettlement,
  retriedCallback,
  type StreamMessage,
  streamPayment,
  streamReached,
  streamSettlement,
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
  /** A scenario kind, or the order shape it belongs to (workload.ts). */
  scenario: string;
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
  /** Chargebacks of this milestone's payments, with where each one's money must come from. */
  chargebacks: ExpectedChargeback[];
}

/** A payout as downstream receives it; net = gross - fee - recovered. */
export interface ExpectedPayout {
  gross: bigint;
  fee: bigint;
  /** A provider receivable netted from this release (0 without one). */
  recovered: bigint;
}

/**
 * A CHARGEBACK the stream sends (CONTRACT.md, escrow.settlements.v1), and the
 * parts the worker must take it from (docs/settlements.md): the amount is
 * fromHeld + fromDisputed + feeReversed + receivable + fromPlatform.
 */
export interface ExpectedChargeback {
  gateway: string;
  reference: string;
  orderId: string;
  currency: string;
  amount: bigint;
  fromHeld: bigint;
  fromDisputed: bigint;
  feeReversed: bigint;
  receivable: bigint;
  fromPlatform: bigint;
  /** What later releases of the provider netted from the receivable. */
  recovered: bigint;
  /** A CHARGEBACK_REVERSED follows it. */
  reversed: boolean;
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

/** part × of / whole, rounded half-up (positive amounts). */
export const proportionHalfUp = (part: bigint, of: bigint, whole: bigint): bigint =>
  (2n * part * of + whole) / (2n * whole);

/** Settlements (chargebacks here) are sent again by their sender more often than payments. */
const settlementRedeliveryRate = 0.2;

/**
 * A CHARGEBACK or CHARGEBACK_REVERSED of `payment` (its gateway and reference)
 * for `minor`; sometimes sent again under a new eventId, which must be absorbed.
 */
export function chargebackOf(
  rnd: Random,
  ids: Ids,
  payment: StreamMessage,
  type: 'CHARGEBACK' | 'CHARGEBACK_REVERSED',
  minor: bigint,
): StreamMessage[] {
  const paid = payment.value as {
    orderId: string;
    milestoneId: string | null;
    gateway: string;
    gatewayReference: string;
    currency: string;
  };
  const message = streamSettlement({
    eventId: ids.event(),
    type,
    orderId: paid.orderId,
    milestoneId: paid.milestoneId,
    outcomeId: null,
    gateway: paid.gateway,
    gatewayReference: paid.gatewayReference,
    amount: amountText(paid.currency, minor),
    currency: paid.currency,
    ...(type === 'CHARGEBACK' ? { reason: 'fraudulent' } : {}),
  });
  return rnd.chance(settlementRedeliveryRate)
    ? [message, redeliveredSettlement(message, ids.event())]
    : [message];
}

/** The expectation of a chargeback of `payment`; parts not given are zero. */
export function expectedChargeback(
  payment: StreamMessage,
  amount: bigint,
  parts: Partial<Omit<ExpectedChargeback, 'gateway' | 'reference' | 'orderId' | 'currency'>>,
): ExpectedChargeback {
  const paid = payment.value as {
    orderId: string;
    gateway: string;
    gatewayReference: string;
    currency: string;
  };
  return {
    gateway: paid.gateway,
    reference: paid.gatewayReference,
    orderId: paid.orderId,
    currency: paid.currency,
    amount,
    fromHeld: 0n,
    fromDisputed: 0n,
    feeReversed: 0n,
    receivable: 0n,
    fromPlatform: 0n,
    recovered: 0n,
    reversed: false,
    ...parts,
  };
}

/** A share of `total` between the two fractions (in percent), at least 1 minor unit and below total. */
export function share(rnd: Random, total: bigint, fromPercent: number, toPercent: number): bigint {
  const part = (total * BigInt(rnd.int(fromPercent, toPercent))) / 100n;
  return part < 1n ? 1n : part >= total ? total - 1n : part;
}

/** The builders one milestone's scenario sends and expects with. */
export function scenarioTools(kind: string, c: MilestoneContext) {
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
    chargebacks: [],
    ...totals,
  });
  /** A refund of `amount` in the milestone's currency, when there is one to make. */
  const refund = (amount: bigint, reason: ExpectedRefund['reason']): ExpectedRefund[] =>
    amount > 0n ? [{ currency, amount, reason }] : [];
  /** A payout of `gross` at the default fee, when there is one to make. */
  const payout = (gross: bigint): ExpectedPayout[] =>
    gross > 0n ? [{ gross, fee: feeOf(gross), recovered: 0n }] : [];
  const released = (gross: bigint, funded: bigint, refunds: ExpectedRefund[] = []) =>
    expect('RELEASED', {
      funded,
      released: gross,
      fees: feeOf(gross),
      refunded: refunds.reduce((sum, r) => (r.reason === 'OVERPAYMENT' ? sum : sum + r.amount), 0n),
      payouts: payout(gross),
      refunds,
    });
  const chargeback = (
    payment: StreamMessage,
    type: 'CHARGEBACK' | 'CHARGEBACK_REVERSED',
    minor: bigint,
  ) => chargebackOf(rnd, ids, payment, type, minor);
  return { pay, reached, expect, released, refund, payout, chargeback };
}
