/**
 * Rebalances while messages are in flight: a second worker joins the group in
 * the middle of a stream and the first one leaves before it ends. Messages
 * handed from one member to the other may be delivered twice; none may take
 * effect twice, and none may be lost.
 */
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { randomOpsPort } from '../support/ops-port';

const basePort = randomOpsPort();
const ctx = useTestContext({ OPS_PORT: String(basePort) });
const workers: RunningWorker[] = [];
ctx.beforeTeardown(async () => {
  for (const worker of workers) await worker.stop().catch(() => undefined);
});

test('a member joining and another leaving mid-stream: every payment funds exactly once', async () => {
  const orders = 20;
  const paymentsPerOrder = 15;
  const log = createLogger({ LOG_LEVEL: 'silent' });
  workers.push(await startWorker(ctx.config, log));
  const kafka = createKafka(ctx.config, 'rebalance-test');
  const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const producer = kafka.producer();
  await producer.connect();
  const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;

  const opened = [];
  for (let o = 0; o < orders; o++) {
    opened.push({
      key: `o-${o}`,
      value: await codec.encode('escrow.orders.v1', {
        ...validMessages['escrow.orders.v1'][0],
        orderId: `o-${o}`,
        eventId: `open-${o}`,
        milestones: [
          {
            milestoneId: 'm-1',
            sequence: 1,
            amount: '100.00',
            releaseCondition: 'DELIVERY_CONFIRMED',
            inspectionPeriodSeconds: 0,
          },
        ],
      }),
    });
  }
  await producer.send({ topic: topic('escrow.orders.v1'), messages: opened });
  const payments = [];
  for (let p = 0; p < paymentsPerOrder; p++) {
    for (let o = 0; o < orders; o++) {
      const value = await codec.encode('escrow.payment-confirmed.v1', {
        ...validMessages['escrow.payment-confirmed.v1'][0],
        orderId: `o-${o}`,
        eventId: `pay-${o}-${p}`,
        gatewayReference: `ch-${o}-${p}`,
        amount: '1.00',
        kind: 'INSTALLMENT',
      });
      // Every callback twice, as a retrying gateway adapter would.
      payments.push({ key: `o-${o}`, value }, { key: `o-${o}`, value });
    }
  }
  const half = payments.length / 2;
  await producer.send({
    topic: topic('escrow.payment-confirmed.v1'),
    messages: payments.slice(0, half),
  });
  // A second member joins while the first is busy: the group rebalances mid-stream.
  workers.push(await startWorker({ ...ctx.config, OPS_PORT: basePort + 1 }, log));
  await producer.send({
    topic: topic('escrow.payment-confirmed.v1'),
    messages: payments.slice(half),
  });
  // The first member leaves before the stream is done: a second rebalance.
  await workers[0]!.stop();
  await producer.disconnect();

  const processed = async () =>
    Number(
      (await ctx.db('inbox').where('dedupe_key', 'like', 'payment:%').count({ n: '*' }))[0]!.n,
    ) ===
    orders * paymentsPerOrder;
  await waitUntil(processed, 90_000, 'every payment processed');
  const perOrder = await ctx
    .db('milestones')
    .select('order_id', 'funded_minor', 'version')
    .orderBy('order_id');
  expect(perOrder).toHaveLength(orders);
  for (const row of perOrder)
    expect(row).toMatchObject({
      funded_minor: String(paymentsPerOrder * 100),
      version: 1 + paymentsPerOrder,
    });
  const fundings = await ctx.db('ledger_transactions').where({ kind: 'FUNDING' }).count({ n: '*' });
  expect(fundings).toEqual([{ n: String(orders * paymentsPerOrder) }]);
}, 150_000);
