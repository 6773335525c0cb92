/**
 * A whole worker, in-process, against the real broker, registry, Postgres and
 * Redis: the story from ORDER_OPENED to PAYOUT_REQUESTED through Kafka, bad
 * messages dead-lettered with their reason while the worker keeps consuming,
 * and the health endpoints.
 */
import type { Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { collectMessages } from '../support/kafka';
import { waitUntil } from '../support/wait';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { randomOpsPort } from '../support/ops-port';

const opsPort = randomOpsPort();
const ctx = useTestContext({ OPS_PORT: String(opsPort) });
let worker: RunningWorker;
let kafka: Kafka;
let codec: RegistryCodec;

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;
async function produce(name: InboundTopic, key: string, value: Buffer): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: topic(name), messages: [{ key, value }] });
  await producer.disconnect();
}
const encodeAndProduce = async (name: InboundTopic, message: Record<string, unknown>) =>
  produce(name, String(message.orderId), await codec.encode(name, message));

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'worker-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
    'escrow.dlq.v1',
  ]);
}, 60_000);
ctx.beforeTeardown(async () => {
  await worker?.stop();
});

test('through Kafka: ORDER_OPENED, a payment and reached end in PAYOUT_REQUESTED with the right net and fee', async () => {
  const [opened] = validMessages['escrow.orders.v1'];
  await encodeAndProduce('escrow.orders.v1', { ...opened, orderId: 'o-kafka' });
  await encodeAndProduce('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-kafka',
    gatewayReference: 'ch-kafka',
  });
  await encodeAndProduce('escrow.milestone-reached.v1', {
    ...validMessages['escrow.milestone-reached.v1'][0],
    orderId: 'o-kafka',
    finalAmount: null,
  });
  const received = await collectMessages(
    kafka,
    `${ctx.config.CONSUMER_GROUP}-payouts`,
    [topic('escrow.payouts.v1')],
    (all) => all.some((r) => r.message.key?.toString() === 'o-kafka'),
    45_000,
  );
  const payout = received.find((r) => r.message.key?.toString() === 'o-kafka')!;
  const value = await codec.decode('escrow.payouts.v1', payout.message.value);
  expect(value).toMatchObject({
    ok: true,
    value: {
      type: 'PAYOUT_REQUESTED',
      orderId: 'o-kafka',
      grossAmount: '1000.00',
      feeAmount: '100.00',
      netAmount: '900.00',
      providerId: 'provider-1',
    },
  });
  expect(payout.message.headers?.['outcome-id']?.toString()).toMatch(/^[0-9a-f-]{36}$/);
}, 60_000);

test('garbage bytes and a schema-invalid message are dead-lettered with their reason, and consuming goes on', async () => {
  await produce('escrow.orders.v1', 'o-bad', Buffer.from('not avro at all'));
  await encodeAndProduce('escrow.orders.v1', {
    ...validMessages['escrow.orders.v1'][0],
    orderId: 'o-bad',
    eventId: 'evt-bad-ts',
    occurredAt: 'yesterday',
  });
  await encodeAndProduce('escrow.orders.v1', {
    ...validMessages['escrow.orders.v1'][0],
    orderId: 'o-after-bad',
    eventId: 'evt-after-bad',
  });
  const dead = await collectMessages(
    kafka,
    `${ctx.config.CONSUMER_GROUP}-dlq`,
    [topic('escrow.dlq.v1')],
    (all) => all.filter((r) => r.message.key?.toString() === 'o-bad').length >= 2,
    45_000,
  );
  const reasons = dead
    .filter((r) => r.message.key?.toString() === 'o-bad')
    .map((r) => r.message.headers?.['dlq-reason']?.toString());
  expect(reasons).toEqual([
    expect.stringContaining('not in the Confluent wire format') as string,
    expect.stringContaining('occurredAt must be an ISO-8601 timestamp in UTC') as string,
  ]);
  const first = dead.find((r) => r.message.key?.toString() === 'o-bad')!;
  expect(first.message.headers?.['dlq-source-topic']?.toString()).toBe(topic('escrow.orders.v1'));
  const record = await codec.decode('escrow.dlq.v1', first.message.value);
  expect(record).toMatchObject({
    ok: true,
    value: {
      originalValue: Buffer.from('not avro at all'),
      sourceTopic: topic('escrow.orders.v1'),
    },
  });
  await waitUntil(
    async () => (await ctx.db('orders').where({ order_id: 'o-after-bad' }).first()) !== undefined,
    20_000,
    'the valid order after the bad messages being processed',
  );
}, 60_000);

test('the health endpoints answer; readiness names each dependency and the consumer', async () => {
  expect((await fetch(`http://127.0.0.1:${opsPort}/healthz`)).status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
  expect(await ready.json()).toEqual({
    status: 'ready',
    checks: { kafka: 'ok', registry: 'ok', postgres: 'ok', redis: 'ok', consumer: 'ok' },
  });
});

async function waitForMilestone(
  orderId: string,
  check: (row: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  let row: Record<string, unknown> | undefined;
  await waitUntil(
    async () => {
      row = await ctx
        .db('milestones')
        .where({ order_id: orderId })
        .first<Record<string, unknown> | undefined>();
      return row !== undefined && check(row);
    },
    30_000,
    `the milestone of ${orderId} reaching the expected state`,
  );
  return row!;
}

test('a release racing a refund with the same expectedVersion: exactly one applies, the other is CONFLICT', async () => {
  const [opened] = validMessages['escrow.orders.v1'];
  await encodeAndProduce('escrow.orders.v1', {
    ...opened,
    orderId: 'o-race',
    eventId: 'open-race',
  });
  await encodeAndProduce('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-race',
    gatewayReference: 'ch-race',
    eventId: 'pay-race',
  });
  await waitForMilestone('o-race', (row) => row.version === 2);
  await Promise.all([
    encodeAndProduce('escrow.milestone-reached.v1', {
      ...validMessages['escrow.milestone-reached.v1'][0],
      orderId: 'o-race',
      eventId: 'reach-race',
      finalAmount: null,
      expectedVersion: 2,
    }),
    encodeAndProduce('escrow.orders.v1', {
      ...validMessages['escrow.orders.v1'][1],
      orderId: 'o-race',
      eventId: 'refund-race',
      expectedVersion: 2,
    }),
  ]);
  await waitUntil(
    async () =>
      (
        await ctx.db('inbox').whereIn('event_id', ['reach-race', 'refund-race']).count({ n: '*' })
      )[0]!.n === '2',
    30_000,
    'both racing commands being processed',
  );
  const verdicts = await ctx
    .db('inbox')
    .whereIn('event_id', ['reach-race', 'refund-race'])
    .orderBy('outcome')
    .select('event_id', 'outcome', 'reason');
  expect(
    verdicts.map(({ outcome, reason }: { outcome: string; reason: string | null }) => ({
      outcome,
      reason,
    })),
  ).toEqual([
    { outcome: 'APPLIED', reason: null },
    { outcome: 'REJECTED', reason: 'CONFLICT' },
  ]);
  // The milestone is as the command that won left it, and as only that one.
  const winner = (verdicts as { event_id: string; outcome: string }[]).find(
    (verdict) => verdict.outcome === 'APPLIED',
  )!.event_id;
  const row = await waitForMilestone('o-race', () => true);
  expect(row.version).toBe(3);
  expect(
    winner === 'reach-race'
      ? { state: row.state, released_minor: row.released_minor, refunded_minor: row.refunded_minor }
      : { state: row.state, held_minor: row.held_minor, refunded_minor: row.refunded_minor },
  ).toEqual(
    winner === 'reach-race'
      ? { state: 'RELEASED', released_minor: '100000', refunded_minor: '0' }
      : { state: 'FUNDED', held_minor: '50000', refunded_minor: '50000' },
  );
}, 60_000);

test('events of one order arriving on different topics in reverse order end in the same release', async () => {
  await encodeAndProduce('escrow.milestone-reached.v1', {
    ...validMessages['escrow.milestone-reached.v1'][0],
    orderId: 'o-reverse',
    eventId: 'reach-reverse',
    finalAmount: null,
  });
  await encodeAndProduce('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-reverse',
    gatewayReference: 'ch-reverse',
    eventId: 'pay-reverse',
  });
  // Both kept (their order is not known yet) before it opens: the path the test names.
  await waitUntil(
    async () =>
      (
        await ctx
          .db('inbox')
          .whereIn('event_id', ['reach-reverse', 'pay-reverse'])
          .where({ outcome: 'KEPT' })
          .count({ n: '*' })
      )[0]!.n === '2',
    30_000,
    'the milestone event and the payment kept before their order',
  );
  await encodeAndProduce('escrow.orders.v1', {
    ...validMessages['escrow.orders.v1'][0],
    orderId: 'o-reverse',
    eventId: 'open-reverse',
  });
  const row = await waitForMilestone('o-reverse', (r) => r.state === 'RELEASED');
  expect(row).toMatchObject({ released_minor: '100000', fees_minor: '10000', held_minor: '0' });
}, 60_000);
