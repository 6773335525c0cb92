/**
 * The malformed and adversarial messages injected into the stream, each with
 * what the worker must do with it (CONTRACT.md): a message that cannot be
 * decoded or breaks the topic's contract goes to escrow.dlq.v1 with its
 * reason; a valid message asking for something the rules refuse is answered
 * with EVENT_REJECTED and the reason. Either way nothing moves in the ledger
 * and the worker carries on. The ones that name an order are aimed at orders
 * already open, so the expected reason does not depend on timing.
 */
import type { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { validMessages } from '../support/messages';
import type { Random } from './random';
import { decodeFailures, validationFailures } from './adversarial-invalid';

export type BadExpectation = 'dead-lettered' | { rejected: string };

export interface BadMessage {
  kind: string;
  topic: InboundTopic;
  key: Buffer | string | null;
  value: Buffer | null;
  expect: BadExpectation;
  /** The eventId of a message that should be rejected (its EVENT_REJECTED names it). */
  eventId?: string;
}

/** What a targeted bad message needs: an order that is open, and one of its payments. */
export interface Target {
  orderId: string;
  milestoneId: string;
  currency: string;
  payment: {
    gateway: string;
    reference: string;
    milestoneId: string;
    amount: string;
    currency: string;
  };
}

export interface BadContext {
  rnd: Random;
  codec: RegistryCodec;
  maxMessageBytes: number;
  /** A unique suffix for ids, so repeated kinds never share an eventId. */
  serial: number;
}

export type BadFactory = (context: BadContext, target: Target) => Promise<BadMessage>;

const payment = validMessages['escrow.payment-confirmed.v1'][0];
const opened = validMessages['escrow.orders.v1'][0];
const reached = validMessages['escrow.milestone-reached.v1'][0];

/** Decimal text with one digit more than the currency allows: "10.001" USD, "10.5" JPY. */
const overPrecise = (currency: string) =>
  currency === 'JPY' ? '10.5' : currency === 'KWD' ? '10.0001' : '10.001';

function rejectedPayment(
  kind: string,
  reason: string,
  fields: (t: Target) => Record<string, unknown>,
): BadFactory {
  return async ({ codec, serial }, target) => {
    const eventId = `bad-${kind}-${serial}`;
    const value = {
      ...payment,
      eventId,
      gateway: 'stripe',
      gatewayReference: `bad-ref-${kind}-${serial}`,
      orderId: target.orderId,
      milestoneId: target.milestoneId,
      currency: target.currency,
      // Whole units: a valid amount in every currency, so only the field under test is wrong.
      amount: '1000',
      confirmedAt: new Date().toISOString(),
      ...fields(target),
    };
    return {
      kind,
      topic: 'escrow.payment-confirmed.v1',
      key: target.orderId,
      value: await codec.encode('escrow.payment-confirmed.v1', value),
      expect: { rejected: reason },
      eventId,
    };
  };
}

function rejectedOrder(kind: string, reason: string, currency: string, amount: string): BadFactory {
  return async ({ codec, serial }) => {
    const eventId = `bad-${kind}-${serial}`;
    const orderId = `bad-order-${kind}-${serial}`;
    const value = {
      ...opened,
      eventId,
      orderId,
      currency,
      milestones: [{ ...opened.milestones[0], amount }],
    };
    return {
      kind,
      topic: 'escrow.orders.v1',
      key: orderId,
      value: await codec.encode('escrow.orders.v1', value),
      expect: { rejected: reason },
      eventId,
    };
  };
}

/** Valid messages the rules refuse: each must come back as EVENT_REJECTED with this reason. */
const businessRejections: Record<string, BadFactory> = {
  'negative-amount': rejectedPayment('negative-amount', 'INVALID_AMOUNT', () => ({
    amount: '-10',
  })),
  'zero-amount': rejectedPayment('zero-amount', 'INVALID_AMOUNT', () => ({ amount: '0' })),
  'amount-beyond-18-digits': rejectedPayment('amount-beyond-18-digits', 'INVALID_AMOUNT', () => ({
    amount: '9999999999999999999999',
  })),
  'over-precise-amount': rejectedPayment('over-precise-amount', 'AMOUNT_PRECISION', (t) => ({
    amount: overPrecise(t.currency),
  })),
  'unknown-currency': rejectedPayment('unknown-currency', 'UNKNOWN_CURRENCY', () => ({
    currency: 'XYZ',
  })),
  'unknown-milestone-payment': rejectedPayment(
    'unknown-milestone-payment',
    'UNKNOWN_MILESTONE',
    () => ({
      milestoneId: 'no-such-milestone',
    }),
  ),
  // The same gateway reference as a payment already applied, with another amount.
  'reused-gateway-reference': rejectedPayment(
    'reused-gateway-reference',
    'IDEMPOTENCY_CONFLICT',
    (t) => ({
      gateway: t.payment.gateway,
      gatewayReference: t.payment.reference,
      milestoneId: t.payment.milestoneId,
      currency: t.payment.currency,
      amount: t.payment.amount === '1' ? '2' : '1',
    }),
  ),
  'unknown-milestone-reached': async ({ codec, serial }, target) => {
    const eventId = `bad-unknown-milestone-reached-${serial}`;
    const value = {
      ...reached,
      eventId,
      orderId: target.orderId,
      milestoneId: 'no-such-milestone',
      finalAmount: null,
    };
    return {
      kind: 'unknown-milestone-reached',
      topic: 'escrow.milestone-reached.v1',
      key: target.orderId,
      value: await codec.encode('escrow.milestone-reached.v1', value),
      expect: { rejected: 'UNKNOWN_MILESTONE' },
      eventId,
    };
  },
  'order-unknown-currency': rejectedOrder(
    'order-unknown-currency',
    'UNKNOWN_CURRENCY',
    'XYZ',
    '100.00',
  ),
  'order-negative-amount': rejectedOrder(
    'order-negative-amount',
    'INVALID_AMOUNT',
    'USD',
    '-100.00',
  ),
  'order-over-precise-amount': rejectedOrder(
    'order-over-precise-amount',
    'AMOUNT_PRECISION',
    'JPY',
    '100.5',
  ),
};

/** Every kind, by name: decoding failures, contract violations, and business rejections. */
export const badMessageKinds: Record<string, BadFactory> = {
  ...decodeFailures,
  ...validationFailures,
  ...businessRejections,
};
