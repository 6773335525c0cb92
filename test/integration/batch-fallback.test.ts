/**
 * A slice the batch path cannot take in bulk, through a real worker: its
 * messages are already in the partition when the worker starts, so they
 * arrive in one slice — a payment, garbage bytes, the same payment's
 * reference with another amount (an idempotency conflict), another payment,
 * and a payment that a database defect refuses (a trigger stands in for
 * one). The slice rolls back and goes one event at a time: each valid event
 * gets its verdict, the refused one alone is dead-lettered as a processing
 * failure, and the garbage is dead-lettered once, not again by the fallback.
 */
import type { Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { createTopics } from '../support/kafka';
import { refusePaymentsWithReference } from '../support/simulated-defect';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { randomOpsPort } from '../support/ops-port';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let worker: RunningWorker | undefined;
let kafka: Kafka;

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;

ctx.beforeTeardown(async () => {
  await worker?.stop();
});

async function dlqSize(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic('escrow.dlq.v1'));
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

test('a defect in a slice: the slice goes one event at a time, and only the refused event and the garbage are dead-lettered, once', async () => {
  kafka = createKafka(ctx.config, 'batch-fallback-test');
  const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas(['escrow.orders.v1', 'escrow.payment-confirmed.v1']);
  await createTopics(kafka, [
    topic('escrow.orders.v1'),
    topic('escrow.payment-confirmed.v1'),
    topic('escrow.dlq.v1'),
  ]);
  const payment = validMessages['escrow.payment-confirmed.v1'][0];
  const pay = (fields: Record<string, unknown>) =>
    codec.encode('escrow.payment-confirmed.v1', { ...payment, orderId: 'o-fallback', ...fields });
  await refusePaymentsWithReference(ctx.db, 'ch-defect');
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topic('escrow.orders.v1'),
    messages: [
      {
        key: 'o-fallback',
        value: await codec.encode('escrow.orders.v1', {
          ...validMessages['escrow.orders.v1'][0],
          orderId: 'o-fallback',
        }),
      },
    ],
  });
  // One request, one key: one partition, in this order.
  await producer.send({
    topic: topic('escrow.payment-confirmed.v1'),
    messages: [
      { key: 'o-fallback', value: await pay({ eventId: 'p-1', gatewayReference: 'ch-a' }) },
      { key: 'o-fallback', value: Buffer.from('garbage, not avro') },
      {
        key: 'o-fallback',
        value: await pay({ eventId: 'p-2', gatewayReference: 'ch-a', amount: '1.00' }),
      },
      {
        key: 'o-fallback',
        value: await pay({ eventId: 'p-3', gatewayReference: 'ch-b', amount: '10.00' }),
      },
      {
        key: 'o-fallback',
        value: await pay({ eventId: 'p-4', gatewayReference: 'ch-defect', amount: '5.00' }),
      },
    ],
  });
  await producer.disconnect();

  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  await waitUntil(
    async () =>
      (await ctx.db('inbox').where({ dedupe_key: 'payment:["stripe","ch-b"]' }).first()) !==
      undefined,
    45_000,
    'the last payment of the slice being processed',
  );

  const inbox = await ctx
    .db('inbox')
    .where('dedupe_key', 'like', '%payment:["stripe",%')
    .orderBy('dedupe_key')
    .select('dedupe_key', 'event_id', 'outcome');
  expect(inbox).toEqual([
    expect.objectContaining({ event_id: 'p-2', outcome: 'IDEMPOTENCY_CONFLICT' }),
    {
      dedupe_key: 'payment:["stripe","ch-a"]',
      event_id: 'p-1',
      outcome: expect.any(String) as string,
    },
    {
      dedupe_key: 'payment:["stripe","ch-b"]',
      event_id: 'p-3',
      outcome: expect.any(String) as string,
    },
  ]);
  // The conflict's rejection went out with the rest of the slice's outcomes.
  expect(
    await ctx.db('outbox').where({ message_key: 'o-fallback', type: 'EVENT_REJECTED' }).count(),
  ).toEqual([{ count: '1' }]);
  const fallbacks = await (await fetch(`http://127.0.0.1:${ctx.config.OPS_PORT}/metrics`)).text();
  expect(fallbacks).toMatch(
    /escrow_batch_fallbacks_total\{topic="escrow.payment-confirmed.v1"\} [1-9]/,
  );
  // The garbage (at decoding) and the refused payment (by the fallback), each once.
  await waitUntil(async () => (await dlqSize()) >= 2, 30_000, 'the refused payment dead-lettered');
  expect(await dlqSize()).toBe(2);
  expect(await ctx.db('inbox').where({ event_id: 'p-4' }).first()).toBeUndefined();
}, 90_000);
