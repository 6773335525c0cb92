/**
 * The worker killed with SIGKILL after the database commit and before the
 * offset commit: after a restart the redelivered message has no second effect,
 * and every outcome is published at least once, always with the outcome-id it
 * was committed with.
 */
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { collectMessages } from '../support/kafka';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { randomOpsPort } from '../support/ops-port';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
const running: WorkerProcess[] = [];
ctx.beforeTeardown(async () => {
  for (const worker of running) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  }
});

test('SIGKILL between the database commit and the offset commit: no second effect, outcomes published with their ids', async () => {
  const kafka = createKafka(ctx.config, 'crash-test');
  const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [...inboundTopics, ...outboundTopics].map((topic) => ({
      topic: `${ctx.config.TOPIC_PREFIX}${topic}`,
      numPartitions: 3,
    })),
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const send = async (topic: (typeof inboundTopics)[number], message: Record<string, unknown>) =>
    producer.send({
      topic: `${ctx.config.TOPIC_PREFIX}${topic}`,
      messages: [{ key: String(message.orderId), value: await codec.encode(topic, message) }],
    });
  await send('escrow.orders.v1', { ...validMessages['escrow.orders.v1'][0], orderId: 'o-crash' });
  const first = spawnWorker(ctx.config, { FAULT_CRASH_AFTER_COMMIT: 'pay-crash' });
  running.push(first);
  // Topics race: the payment is sent once the order is open, so it funds rather than waits.
  await waitUntil(
    async () => (await ctx.db('orders').where({ order_id: 'o-crash' }).first()) !== undefined,
    45_000,
    'the order opening',
  );
  await send('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-crash',
    eventId: 'pay-crash',
    gatewayReference: 'ch-crash',
  });
  await producer.disconnect();

  const { signal } = await first.exited;
  expect(signal).toBe('SIGKILL');
  // The payment's effect is committed; its offset is not.
  const fundings = () =>
    ctx.db('ledger_transactions').where({ order_id: 'o-crash', kind: 'FUNDING' }).count({ n: '*' });
  expect(await fundings()).toEqual([{ n: '1' }]);
  const outcomeIds = async () =>
    (
      await ctx
        .db('outbox')
        .where({ message_key: 'o-crash' })
        .orderBy('outbox_id')
        .pluck('outcome_id')
    ).map(String);
  const committedOutcomes = await outcomeIds();
  expect(committedOutcomes).toHaveLength(2); // ORDER_OPENED, MILESTONE_FUNDED

  const second = spawnWorker(ctx.config);
  running.push(second);
  await waitUntil(
    async () =>
      (await ctx.db('inbox').where({ dedupe_key: 'payment:["stripe","ch-crash"]' }).first()) !==
        undefined &&
      Number((await ctx.db('outbox').whereNull('published_at').count({ n: '*' }))[0]!.n) === 0,
    45_000,
    'the restarted worker publishing the outbox',
  );
  const received = await collectMessages(
    kafka,
    `${ctx.config.CONSUMER_GROUP}-check`,
    [`${ctx.config.TOPIC_PREFIX}escrow.events.v1`],
    (all) =>
      new Set(all.map((r) => r.message.headers?.['outcome-id']?.toString())).size >=
      committedOutcomes.length,
    45_000,
  );
  // The payment was delivered again (its offset was never committed) and found a duplicate...
  await waitUntil(
    () =>
      Promise.resolve(
        second
          .output()
          .split('\n')
          .some(
            (line) =>
              line.includes('"eventId":"pay-crash"') && line.includes('"verdict":"DUPLICATE"'),
          ),
      ),
    30_000,
    'the redelivery of pay-crash',
  );
  // ...so it changed nothing: still one funding, still the same outcomes.
  expect(await fundings()).toEqual([{ n: '1' }]);
  expect(await outcomeIds()).toEqual(committedOutcomes);
  const publishedIds = new Set(received.map((r) => r.message.headers?.['outcome-id']?.toString()));
  expect([...publishedIds].sort()).toEqual([...committedOutcomes].sort());
  expect(
    await ctx
      .db('milestones')
      .where({ order_id: 'o-crash' })
      .first<{ version: number; held_minor: string }>(),
  ).toMatchObject({ version: 2, held_minor: '100000' });
}, 120_000);
