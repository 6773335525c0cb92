/**
 * Degraded and orderly operation of a worker process: with Redis unreachable
 * it goes on processing correctly under the database locks alone, and SIGTERM
 * stops it cleanly (exit 0, in-flight work finished, pools closed).
 */
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';
import { randomOpsPort } from '../support/ops-port';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let worker: WorkerProcess | undefined;
ctx.beforeTeardown(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
});

test('with Redis down the worker processes events correctly, then SIGTERM stops it cleanly', async () => {
  worker = spawnWorker(ctx.config, { REDIS_URL: 'redis://127.0.0.1:1' });
  const kafka = createKafka(ctx.config, 'degraded-test');
  const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const started = worker;
  await waitUntil(
    async () => {
      // A worker that could not start says why on stderr: fail with that, not a timeout.
      if (started.child.exitCode !== null)
        throw new Error(
          `the worker exited with code ${started.child.exitCode}: ${started.output().slice(-2000)}`,
        );
      try {
        return (await fetch(`http://127.0.0.1:${ctx.config.OPS_PORT}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    45_000,
    'the worker starting',
  );
  const ready = await fetch(`http://127.0.0.1:${ctx.config.OPS_PORT}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({
    kafka: 'ok',
    postgres: 'ok',
    registry: 'ok',
  });

  const producer = kafka.producer();
  await producer.connect();
  const send = async (topic: (typeof inboundTopics)[number], message: Record<string, unknown>) =>
    producer.send({
      topic: `${ctx.config.TOPIC_PREFIX}${topic}`,
      messages: [{ key: 'o-noredis', value: await codec.encode(topic, message) }],
    });
  await send('escrow.orders.v1', { ...validMessages['escrow.orders.v1'][0], orderId: 'o-noredis' });
  await send('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-noredis',
    gatewayReference: 'ch-noredis',
  });
  await producer.disconnect();
  await waitUntil(
    async () =>
      (await ctx.db('milestones').where({ order_id: 'o-noredis', state: 'FUNDED' }).first()) !==
      undefined,
    60_000,
    'the payment funding the milestone',
  );
  expect(worker.output()).toContain('no Redis lock; continuing under the database locks alone');

  worker.child.kill('SIGTERM');
  const { code } = await worker.exited;
  expect(code).toBe(0);
  expect(worker.output()).toContain('"msg":"stopped"');
}, 120_000);
