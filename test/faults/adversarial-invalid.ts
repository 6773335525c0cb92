/**
 * Bad messages that must end in escrow.dlq.v1 with a reason, the offset
 * committed and the worker carrying on: values that are not Confluent wire
 * format Avro of the topic's schema (garbage, unknown schema ids, truncated
 * bodies, tombstones, another topic's registered schema, a value close to the
 * broker's size limit), and records that decode but break the topic's
 * contract (oversized or over-long unicode ids, too many milestones, amounts
 * that are not plain decimals, control characters in ids).
 */
import { validMessages } from '../support/messages';
import type { BadContext, BadFactory, BadMessage } from './adversarial';

const payment = validMessages['escrow.payment-confirmed.v1'][0];
const opened = validMessages['escrow.orders.v1'][0];
const refund = validMessages['escrow.orders.v1'][1];
const reached = validMessages['escrow.milestone-reached.v1'][0];

const deadLettered = (kind: string, fields: Omit<BadMessage, 'kind' | 'expect'>): BadMessage => ({
  kind,
  expect: 'dead-lettered',
  ...fields,
});

/** Random bytes that cannot be mistaken for the wire format (the first byte is not 0). */
const garbage = ({ rnd }: BadContext, length: number) => {
  const bytes = rnd.bytes(length);
  bytes[0] = rnd.int(1, 255);
  return bytes;
};

/** A whole valid payment record with some fields replaced, encoded with the payment schema. */
const invalidPayment =
  (kind: string, fields: (serial: number) => Record<string, unknown>): BadFactory =>
  async ({ codec, serial }, target) => ({
    kind,
    topic: 'escrow.payment-confirmed.v1',
    key: target.orderId,
    value: await codec.encode('escrow.payment-confirmed.v1', {
      ...payment,
      eventId: `bad-${kind}-${serial}`,
      gatewayReference: `bad-ref-${kind}-${serial}`,
      orderId: target.orderId,
      milestoneId: target.milestoneId,
      currency: target.currency,
      amount: '1000',
      ...fields(serial),
    }),
    expect: 'dead-lettered',
  });

export const decodeFailures: Record<string, BadFactory> = {
  'garbage-bytes': (context) =>
    Promise.resolve(
      deadLettered('garbage-bytes', {
        topic: context.rnd.pick([
          'escrow.orders.v1',
          'escrow.payment-confirmed.v1',
          'escrow.disputes.v1',
        ] as const),
        key: garbage(context, 16),
        value: garbage(context, context.rnd.int(1, 600)),
      }),
    ),
  'unknown-schema-id': (context) => {
    const value = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), context.rnd.bytes(40)]);
    value.writeInt32BE(2_000_000_000 + context.serial, 1);
    return Promise.resolve(
      deadLettered('unknown-schema-id', { topic: 'escrow.payment-confirmed.v1', key: null, value }),
    );
  },
  'truncated-avro': async ({ codec, serial }) => {
    const whole = await codec.encode('escrow.orders.v1', {
      ...opened,
      eventId: `bad-truncated-${serial}`,
    });
    return deadLettered('truncated-avro', {
      topic: 'escrow.orders.v1',
      key: 'truncated',
      value: whole.subarray(0, 20),
    });
  },
  tombstone: () =>
    Promise.resolve(
      deadLettered('tombstone', { topic: 'escrow.disputes.v1', key: 'tombstone', value: null }),
    ),
  'empty-value': () =>
    Promise.resolve(
      deadLettered('empty-value', {
        topic: 'escrow.milestone-reached.v1',
        key: 'empty',
        value: Buffer.alloc(0),
      }),
    ),
  // A valid, registered record of another topic: it decodes with its own schema, not this topic's.
  'wrong-schema': async ({ codec, serial }, target) =>
    deadLettered('wrong-schema', {
      topic: 'escrow.payment-confirmed.v1',
      key: target.orderId,
      value: await codec.encode('escrow.milestone-reached.v1', {
        ...reached,
        eventId: `bad-wrong-schema-${serial}`,
        orderId: target.orderId,
      }),
    }),
  // Close to the broker's limit, leaving room for the dead letter's own wrapping.
  'huge-garbage': (context) =>
    Promise.resolve(
      deadLettered('huge-garbage', {
        topic: 'escrow.orders.v1',
        key: 'huge',
        value: garbage(context, context.maxMessageBytes - 64 * 1024),
      }),
    ),
  'huge-record': invalidPayment('huge-record', () => ({ gatewayReference: 'R'.repeat(500_000) })),
};

export const validationFailures: Record<string, BadFactory> = {
  'oversized-event-id': invalidPayment('oversized-event-id', (serial) => ({
    eventId: `${serial}-${'e'.repeat(300)}`,
  })),
  'oversized-order-id': async ({ codec, serial }) => {
    const orderId = `${serial}-${'o'.repeat(5000)}`;
    const value = await codec.encode('escrow.orders.v1', {
      ...opened,
      eventId: `bad-long-order-${serial}`,
      orderId,
    });
    return deadLettered('oversized-order-id', { topic: 'escrow.orders.v1', key: orderId, value });
  },
  // 201 characters: one past the limit, counted in code points (an emoji is one, as in Postgres).
  'overlong-unicode-id': async ({ codec, serial, rnd }) => {
    const orderId = rnd.chance(0.5)
      ? `${'🚀'.repeat(201)}${serial}`
      : `${'ü'.repeat(201)}${serial}`;
    const value = await codec.encode('escrow.orders.v1', {
      ...opened,
      eventId: `bad-unicode-${serial}`,
      orderId,
    });
    return deadLettered('overlong-unicode-id', { topic: 'escrow.orders.v1', key: orderId, value });
  },
  'nul-in-id': invalidPayment('nul-in-id', (serial) => ({ eventId: `bad-nul-${serial}\u0000x` })),
  'too-many-milestones': async ({ codec, serial }) => {
    const milestones = Array.from({ length: 101 }, (_, index) => ({
      ...opened.milestones[0],
      milestoneId: `m-${index}`,
      sequence: index,
    }));
    const orderId = `bad-many-${serial}`;
    const value = await codec.encode('escrow.orders.v1', {
      ...opened,
      eventId: `bad-many-${serial}`,
      orderId,
      milestones,
    });
    return deadLettered('too-many-milestones', { topic: 'escrow.orders.v1', key: orderId, value });
  },
  'oversized-reason': async ({ codec, serial }, target) => {
    const value = await codec.encode('escrow.orders.v1', {
      ...refund,
      eventId: `bad-reason-${serial}`,
      orderId: target.orderId,
      milestoneId: target.milestoneId,
      reason: 'why '.repeat(2000),
    });
    return deadLettered('oversized-reason', {
      topic: 'escrow.orders.v1',
      key: target.orderId,
      value,
    });
  },
  'exponent-amount': invalidPayment('exponent-amount', () => ({ amount: '1e3' })),
  'thousands-separator': invalidPayment('thousands-separator', () => ({ amount: '1,000.00' })),
  'amount-of-50-digits': invalidPayment('amount-of-50-digits', () => ({ amount: '9'.repeat(50) })),
  'lowercase-currency': invalidPayment('lowercase-currency', () => ({ currency: 'usd' })),
  'missing-milestone-id': invalidPayment('missing-milestone-id', () => ({
    milestoneId: null,
    kind: 'DEPOSIT',
  })),
  'bad-timestamp': invalidPayment('bad-timestamp', () => ({ confirmedAt: 'yesterday at noon' })),
};
