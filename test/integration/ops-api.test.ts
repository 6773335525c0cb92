/**
 * The operations API of a whole worker, in-process, against the real services,
 * with OPS_TOKEN set: open routes (/healthz, /readyz, /metrics), guarded routes
 * (order view, ledger view, reconciliation) refused without the token and
 * answered with it, and metrics that move when events flow through Kafka.
 */
import type { Kafka, Producer } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { randomOpsPort } from '../support/ops-port';

const opsPort = randomOpsPort();
const token = 'ops-token-for-tests-0123456789';
const ctx = useTestContext({ OPS_PORT: String(opsPort), OPS_TOKEN: token });
const base = `http://127.0.0.1:${opsPort}`;
const authorized = { headers: { Authorization: `Bearer ${token}` } };
let worker: RunningWorker;
let kafka: Kafka;
let producer: Producer;
let codec: RegistryCodec;

async function produce(name: InboundTopic, message: Record<string, unknown> | Buffer) {
  const value = Buffer.isBuffer(message) ? message : await codec.encode(name, message);
  await producer.send({
    topic: `${ctx.config.TOPIC_PREFIX}${name}`,
    messages: [{ key: 'o-ops', value }],
  });
}

/** One sample of a metric from the Prometheus text, or undefined when absent. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'ops-api-test');
  producer = kafka.producer();
  await producer.connect();
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
  ]);

  const [opened] = validMessages['escrow.orders.v1'];
  const [payment] = validMessages['escrow.payment-confirmed.v1'];
  const [reached] = validMessages['escrow.milestone-reached.v1'];
  await produce('escrow.orders.v1', { ...opened, orderId: 'o-ops', eventId: 'ops-open' });
  await produce('escrow.payment-confirmed.v1', {
    ...payment,
    orderId: 'o-ops',
    eventId: 'ops-pay',
  });
  // The same callback again, retried by the gateway adapter with a new eventId.
  await produce('escrow.payment-confirmed.v1', {
    ...payment,
    orderId: 'o-ops',
    eventId: 'ops-pay-2',
  });
  await produce('escrow.milestone-reached.v1', {
    ...reached,
    orderId: 'o-ops',
    eventId: 'ops-reached',
    finalAmount: null,
  });
  await produce('escrow.orders.v1', Buffer.from('garbage'));
  await waitUntil(
    async () =>
      (await ctx.db('outbox').where({ message_key: 'o-ops' }).whereNull('published_at').first()) ===
        undefined &&
      (await ctx.db('milestones').where({ order_id: 'o-ops', state: 'RELEASED' }).first()) !==
        undefined,
    45_000,
    'o-ops released and its outcomes published',
  );
}, 60_000);
ctx.beforeTeardown(async () => {
  await producer?.disconnect();
  await worker?.stop();
});

test('the guarded routes refuse a missing or wrong token, and say which header is needed', async () => {
  const attempts: Record<string, string>[] = [
    {},
    { Authorization: 'Bearer wrong-token-wrong-token' },
    { Authorization: token },
  ];
  for (const headers of attempts) {
    const response = await fetch(`${base}/orders/o-ops`, { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="escrow-worker"');
    expect(((await response.json()) as { error: string }).error).toContain('Authorization: Bearer');
  }
  expect((await fetch(`${base}/reconciliation`)).status).toBe(401);
  expect((await fetch(`${base}/orders/o-ops/ledger`)).status).toBe(401);
});

test('the open routes need no token', async () => {
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  expect((await fetch(`${base}/metrics`)).status).toBe(200);
});

test('GET /orders/{orderId}: every milestone with its state, version and amounts as strings', async () => {
  const response = await fetch(`${base}/orders/o-ops`, authorized);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    orderId: 'o-ops',
    buyerId: 'buyer-1',
    providerId: 'provider-1',
    currency: 'USD',
    state: 'OPEN',
    milestones: [
      expect.objectContaining({
        milestoneId: 'm-1',
        state: 'RELEASED',
        // 3 or 4: reached may arrive before or after the payment (different topics).
        version: expect.any(Number) as number,
        amount: '1000.00',
        funded: '1000.00',
        held: '0.00',
        disputed: '0.00',
        released: '1000.00',
        fees: '100.00',
        refunded: '0.00',
      }),
    ],
  });
  const missing = await fetch(`${base}/orders/${encodeURIComponent('no such order')}`, authorized);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual({ error: 'no order "no such order"' });
});

test('GET /orders/{orderId}/ledger: each transaction with its entries, each netting to zero', async () => {
  const response = await fetch(`${base}/orders/o-ops/ledger`, authorized);
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    transactions: { kind: string; causeEventId: string; entries: { amount: string }[] }[];
  };
  // Funding, then release; the release is caused by whichever of payment and reached came last.
  expect(body.transactions.map((t) => t.kind)).toEqual([
    expect.stringMatching(/FUND/),
    expect.stringMatching(/RELEASE/),
  ]);
  expect(body.transactions[0]!.causeEventId).toBe('ops-pay');
  for (const transaction of body.transactions) {
    const cents = transaction.entries.reduce(
      (total, entry) => total + BigInt(entry.amount.replace('.', '')),
      0n,
    );
    expect(cents).toBe(0n);
    expect(transaction.entries.length).toBeGreaterThanOrEqual(2);
  }
});

test('GET /reconciliation: the report as JSON, or as the table with ?format=text', async () => {
  const json = await fetch(`${base}/reconciliation`, authorized);
  expect(json.status).toBe(200);
  expect(await json.json()).toMatchObject({ clean: true });
  const text = await fetch(`${base}/reconciliation?format=text`, authorized);
  expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await text.text()).toMatch(/ledger/i);
});

test('/metrics counts what flowed through, by topic and reason, and reads lag and backlog', async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const orders = 'topic="escrow.orders.v1"';
  const payments = 'topic="escrow.payment-confirmed.v1"';
  expect(sample(text, 'escrow_events_consumed_total', orders)).toBe(2);
  expect(sample(text, 'escrow_events_applied_total', orders)).toBe(1);
  expect(sample(text, 'escrow_events_consumed_total', payments)).toBe(2);
  expect(sample(text, 'escrow_duplicates_absorbed_total', payments)).toBe(1);
  expect(sample(text, 'escrow_events_dead_lettered_total', `${orders},reason="UNDECODABLE"`)).toBe(
    1,
  );
  expect(text).toMatch(/^escrow_ledger_transactions_posted_total 2$/m);
  expect(sample(text, 'escrow_outcomes_published_total', 'topic="escrow.payouts.v1"')).toBe(1);
  expect(sample(text, 'escrow_event_processing_seconds_count', payments)).toBe(2);
  expect(text).toMatch(/^escrow_outbox_backlog_rows 0$/m);
  expect(text).toMatch(/^escrow_outbox_relay_active 1$/m);
  expect(text).toMatch(/^escrow_lock_wait_seconds_count \d+$/m);
  expect(text).toMatch(/^escrow_worker_process_resident_memory_bytes \d+/m);
  // Lag is read from the group's committed offsets; every partition of the five inbound
  // topics (three each here) is listed, the settlements topic's too.
  const lagLines = text.split('\n').filter((l) => l.startsWith('escrow_consumer_lag_messages{'));
  expect(lagLines).toHaveLength(5 * 3);
  expect(lagLines.filter((line) => line.includes('escrow.settlements.v1'))).toHaveLength(3);
});

test('anything but GET is refused; unknown routes are 404', async () => {
  const post = await fetch(`${base}/orders/o-ops`, { ...authorized, method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  expect((await fetch(`${base}/nowhere`)).status).toBe(404);
});
