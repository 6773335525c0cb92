/**
 * Traces through real Kafka: a whole worker in-process with an in-memory
 * span exporter. A gateway callback's `traceparent` is continued by the
 * worker's span for its event (escrow.event → escrow.apply, escrow.commit),
 * and the outcome it causes is published with that span's context, so a
 * payout consumer's span is a child of the callback's trace. Rule asserted:
 * an outcome carries the trace of the event that caused it (its
 * causeEventId): the payment when the payment completes a reached milestone,
 * the milestone-reached event when that comes last, the timer's own new
 * trace when the inspection period ends it, the payment's when a kept
 * payment is replayed by its order. An event without a traceparent starts a
 * new trace, whose context its outcomes carry. Last, the worker as `npm
 * start` runs it, configured by the environment, exports over OTLP/HTTP.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { type Received, startCollector } from '../support/kafka';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker } from '../support/worker-process';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
let worker: RunningWorker | undefined;
let kafka: Kafka;
let codec: RegistryCodec;
let collector: { received: Received[]; stop: () => Promise<void> };

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;

/** A span of the gateway adapter's, as its traceparent names it. */
function remoteSpan() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Produces one message; returns where it landed. */
async function produce(
  name: InboundTopic,
  message: Record<string, unknown>,
  headers: IHeaders = {},
): Promise<{ partition: number; offset: string }> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const [sent] = await producer.send({
      topic: topic(name),
      messages: [
        { key: String(message.orderId), value: await codec.encode(name, message), headers },
      ],
    });
    return { partition: sent!.partition, offset: sent!.baseOffset! };
  } finally {
    await producer.disconnect();
  }
}

const order = (orderId: string, inspectionPeriodSeconds = 0) => ({
  ...validMessages['escrow.orders.v1'][0],
  orderId,
  eventId: `open-${orderId}`,
  milestones: [{ ...validMessages['escrow.orders.v1'][0].milestones[0], inspectionPeriodSeconds }],
});
const payment = (orderId: string) => ({
  ...validMessages['escrow.payment-confirmed.v1'][0],
  orderId,
  eventId: `pay-${orderId}`,
  gatewayReference: `ch-${orderId}`,
});
const reached = (orderId: string) => ({
  ...validMessages['escrow.milestone-reached.v1'][0],
  orderId,
  eventId: `reached-${orderId}`,
  finalAmount: null,
});

async function processed(eventId: string): Promise<void> {
  await waitUntil(
    async () => (await ctx.db('inbox').where({ event_id: eventId }).first()) !== undefined,
    30_000,
    `${eventId} being processed`,
  );
}

/** The outcome of `type` for `orderId` once the relay published it, with its value decoded. */
async function outcome(
  name: 'escrow.payouts.v1' | 'escrow.events.v1',
  type: string,
  orderId: string,
): Promise<{ message: KafkaMessage; value: Record<string, unknown> }> {
  let found: { message: KafkaMessage; value: Record<string, unknown> } | undefined;
  await waitUntil(
    async () => {
      for (const received of collector.received) {
        if (received.topic !== topic(name) || received.message.key?.toString() !== orderId)
          continue;
        const decoded = await codec.decode(name, received.message.value);
        if (!decoded.ok) continue;
        const value = decoded.value as Record<string, unknown>;
        if (value.type === type) found = { message: received.message, value };
      }
      return found !== undefined;
    },
    40_000,
    `${type} of ${orderId} being published`,
  );
  return found!;
}

const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

/** The finished span of an event (its escrow.event span), waited for: it ends after the offset commit. */
async function eventSpan(eventId: string): Promise<ReadableSpan> {
  let span: ReadableSpan | undefined;
  await waitUntil(
    () => {
      span = exporter
        .getFinishedSpans()
        .find(
          (candidate) =>
            candidate.name.startsWith('escrow.event ') &&
            candidate.attributes['escrow.event.id'] === eventId,
        );
      return span !== undefined;
    },
    30_000,
    `the span of ${eventId} ending`,
  );
  return span!;
}

async function childrenOf(parent: ReadableSpan, names: string[]): Promise<ReadableSpan[]> {
  const { spanId } = parent.spanContext();
  let children: ReadableSpan[] = [];
  await waitUntil(
    () => {
      children = exporter
        .getFinishedSpans()
        .filter((span) => span.parentSpanContext?.spanId === spanId);
      return names.every((name) => children.some((child) => child.name === name));
    },
    10_000,
    `${names.join(' and ')} under ${parent.name}`,
  );
  return children;
}

const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }), {
    tracing: { tracerProvider: provider },
  });
  kafka = createKafka(ctx.config, 'tracing-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
  ]);
  collector = await startCollector(kafka, `${ctx.config.CONSUMER_GROUP}-outcomes`, [
    topic('escrow.payouts.v1'),
    topic('escrow.events.v1'),
  ]);
}, 60_000);
ctx.beforeTeardown(async () => {
  await collector?.stop();
  await worker?.stop();
  await provider.shutdown();
});

/** An OTLP/HTTP receiver on loopback that keeps every request it is sent. */
async function startReceiver() {
  const requests: { path: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    requests,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("a gateway callback that releases a reached milestone: the payout continues the callback's trace through the worker's span", async () => {
  await produce('escrow.orders.v1', order('o-trace-pay'));
  await produce('escrow.milestone-reached.v1', reached('o-trace-pay'));
  await processed('reached-o-trace-pay');
  const gateway = remoteSpan();
  const sent = await produce('escrow.payment-confirmed.v1', payment('o-trace-pay'), {
    traceparent: gateway.traceparent,
    tracestate: 'gateway=callback-7',
  });

  const payout = await outcome('escrow.payouts.v1', 'PAYOUT_REQUESTED', 'o-trace-pay');
  expect(payout.value.causeEventId).toBe('pay-o-trace-pay');
  const span = await eventSpan('pay-o-trace-pay');
  // The worker's span: a child of the gateway's, in its trace.
  expect(span.name).toBe('escrow.event escrow.payment-confirmed.v1');
  expect(span.kind).toBe(SpanKind.CONSUMER);
  expect(span.spanContext().traceId).toBe(gateway.traceId);
  expect(span.parentSpanContext).toMatchObject({
    traceId: gateway.traceId,
    spanId: gateway.spanId,
    isRemote: true,
  });
  expect(span.attributes).toEqual({
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': topic('escrow.payment-confirmed.v1'),
    'messaging.destination.partition.id': String(sent.partition),
    'messaging.consumer.group.name': ctx.config.CONSUMER_GROUP,
    'messaging.kafka.offset': Number(sent.offset),
    'escrow.event.id': 'pay-o-trace-pay',
    'escrow.event.type': 'PAYMENT_CONFIRMED',
    'escrow.order.id': 'o-trace-pay',
    'escrow.milestone.id': 'm-1',
    'escrow.verdict': 'APPLIED',
    'escrow.outcomes': 3,
  });
  // The payout is published in the worker span's context: a payout consumer's span is its child.
  expect(header(payout.message, 'traceparent')).toBe(traceparentOf(span));
  expect(header(payout.message, 'tracestate')).toBe('gateway=callback-7');
  expect(header(payout.message, 'outcome-id')).toBe(payout.value.outcomeId);

  const children = await childrenOf(span, ['escrow.apply', 'escrow.commit']);
  for (const child of children) expect(child.spanContext().traceId).toBe(gateway.traceId);
  const apply = children.find((child) => child.name === 'escrow.apply')!;
  expect(apply.attributes).toMatchObject({
    'escrow.verdict': 'APPLIED',
    'escrow.outcomes': 3,
    'escrow.transaction.events': expect.any(Number) as number,
  });
  const commit = children.find((child) => child.name === 'escrow.commit')!;
  expect(commit.attributes['messaging.kafka.offset']).toBeGreaterThanOrEqual(Number(sent.offset));
  // consume → apply → commit, in that order, inside the event's span.
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1];
  const end = (s: ReadableSpan) => s.endTime[0] * 1e9 + s.endTime[1];
  expect(start(apply)).toBeGreaterThanOrEqual(start(span));
  expect(start(commit)).toBeGreaterThanOrEqual(end(apply));
  expect(end(span)).toBeGreaterThanOrEqual(end(commit));
}, 90_000);

test("a milestone-reached that comes last releases in its own trace, not the payment's", async () => {
  await produce('escrow.orders.v1', order('o-trace-reach'));
  const gateway = remoteSpan();
  await produce('escrow.payment-confirmed.v1', payment('o-trace-reach'), {
    traceparent: gateway.traceparent,
  });
  await processed('pay-o-trace-reach');
  const upstream = remoteSpan();
  await produce('escrow.milestone-reached.v1', reached('o-trace-reach'), {
    traceparent: upstream.traceparent,
  });

  const payout = await outcome('escrow.payouts.v1', 'PAYOUT_REQUESTED', 'o-trace-reach');
  expect(payout.value.causeEventId).toBe('reached-o-trace-reach');
  const span = await eventSpan('reached-o-trace-reach');
  expect(span.parentSpanContext?.spanId).toBe(upstream.spanId);
  expect(header(payout.message, 'traceparent')).toBe(traceparentOf(span));
  expect(span.spanContext().traceId).toBe(upstream.traceId);
  // The funding outcome stays in the payment's trace.
  const funded = await outcome('escrow.events.v1', 'MILESTONE_FUNDED', 'o-trace-reach');
  expect(header(funded.message, 'traceparent')).toBe(
    traceparentOf(await eventSpan('pay-o-trace-reach')),
  );
  expect(header(funded.message, 'traceparent')).toContain(gateway.traceId);
}, 90_000);

test('events without a traceparent start new traces, whose contexts their outcomes carry', async () => {
  await produce('escrow.orders.v1', order('o-trace-none'));
  await produce('escrow.payment-confirmed.v1', payment('o-trace-none'));
  await processed('pay-o-trace-none');
  await produce('escrow.milestone-reached.v1', reached('o-trace-none'));

  const payout = await outcome('escrow.payouts.v1', 'PAYOUT_REQUESTED', 'o-trace-none');
  const span = await eventSpan('reached-o-trace-none');
  expect(span.parentSpanContext).toBeUndefined();
  expect(header(payout.message, 'traceparent')).toBe(traceparentOf(span));
  expect(header(payout.message, 'tracestate')).toBeUndefined();

  const opened = await outcome('escrow.events.v1', 'ORDER_OPENED', 'o-trace-none');
  const openSpan = await eventSpan('open-o-trace-none');
  expect(openSpan.parentSpanContext).toBeUndefined();
  expect(header(opened.message, 'traceparent')).toBe(traceparentOf(openSpan));
  // Three events, three traces of their own.
  const traces = new Set(
    await Promise.all(
      ['open-o-trace-none', 'pay-o-trace-none', 'reached-o-trace-none'].map(
        async (eventId) => (await eventSpan(eventId)).spanContext().traceId,
      ),
    ),
  );
  expect(traces.size).toBe(3);
}, 90_000);

test('an inspection period that ends releases in a new trace of the timer', async () => {
  await produce('escrow.orders.v1', order('o-trace-timer', 1));
  const gateway = remoteSpan();
  await produce('escrow.payment-confirmed.v1', payment('o-trace-timer'), {
    traceparent: gateway.traceparent,
  });
  await processed('pay-o-trace-timer');
  const upstream = remoteSpan();
  await produce('escrow.milestone-reached.v1', reached('o-trace-timer'), {
    traceparent: upstream.traceparent,
  });

  const payout = await outcome('escrow.payouts.v1', 'PAYOUT_REQUESTED', 'o-trace-timer');
  expect(payout.value.causeEventId).toMatch(/^inspection:o-trace-timer:m-1:/);
  const span = await eventSpan(String(payout.value.causeEventId));
  expect(span.name).toBe('escrow.event timer.inspection');
  expect(span.kind).toBe(SpanKind.INTERNAL);
  expect(span.parentSpanContext).toBeUndefined();
  expect(span.attributes).toEqual({
    'escrow.event.id': payout.value.causeEventId,
    'escrow.event.type': 'INSPECTION_ELAPSED',
    'escrow.order.id': 'o-trace-timer',
    'escrow.milestone.id': 'm-1',
    'escrow.verdict': 'APPLIED',
    'escrow.outcomes': 2,
  });
  expect([gateway.traceId, upstream.traceId]).not.toContain(span.spanContext().traceId);
  expect(header(payout.message, 'traceparent')).toBe(traceparentOf(span));
  const [apply] = await childrenOf(span, ['escrow.apply']);
  expect(apply!.attributes).toMatchObject({ 'escrow.verdict': 'APPLIED' });
}, 90_000);

test("a payment kept until its order opens: its replay's outcomes carry the payment's trace", async () => {
  const gateway = remoteSpan();
  await produce('escrow.payment-confirmed.v1', payment('o-trace-kept'), {
    traceparent: gateway.traceparent,
  });
  await processed('pay-o-trace-kept');
  const kept = await eventSpan('pay-o-trace-kept');
  expect(kept.attributes['escrow.verdict']).toBe('KEPT');
  await produce('escrow.orders.v1', order('o-trace-kept'));

  const funded = await outcome('escrow.events.v1', 'MILESTONE_FUNDED', 'o-trace-kept');
  expect(funded.value.causeEventId).toBe('pay-o-trace-kept');
  expect(header(funded.message, 'traceparent')).toBe(traceparentOf(kept));
  const opened = await outcome('escrow.events.v1', 'ORDER_OPENED', 'o-trace-kept');
  expect(header(opened.message, 'traceparent')).toBe(
    traceparentOf(await eventSpan('open-o-trace-kept')),
  );
}, 90_000);

test('events applied in one transaction each get their own span and their own apply span', async () => {
  const producer = kafka.producer();
  await producer.connect();
  // One send to one partition: one fetch, one slice, one transaction.
  await producer.send({
    topic: topic('escrow.orders.v1'),
    messages: await Promise.all(
      ['o-trace-batch-1', 'o-trace-batch-2'].map(async (orderId) => ({
        key: orderId,
        partition: 0,
        value: await codec.encode('escrow.orders.v1', order(orderId)),
        headers: { traceparent: remoteSpan().traceparent },
      })),
    ),
  });
  await producer.disconnect();

  const spans = [await eventSpan('open-o-trace-batch-1'), await eventSpan('open-o-trace-batch-2')];
  expect(spans[0]!.spanContext().traceId).not.toBe(spans[1]!.spanContext().traceId);
  const applies = await Promise.all(
    spans.map(async (span) => {
      const children = await childrenOf(span, ['escrow.apply']);
      return children.find((child) => child.name === 'escrow.apply')!;
    }),
  );
  for (const apply of applies)
    expect(apply.attributes['escrow.transaction.events']).toBeGreaterThanOrEqual(2);
}, 90_000);

test('the worker process, configured by the environment, exports its spans over OTLP/HTTP and flushes them when it stops', async () => {
  // The in-process worker leaves the group to the process.
  await worker?.stop();
  worker = undefined;
  const receiver = await startReceiver();
  const child = spawnWorker(ctx.config, {
    OPS_PORT: String(randomOpsPort()),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret%20key',
    OTEL_SERVICE_NAME: 'escrow-otlp-test',
  });
  const gateway = remoteSpan();
  try {
    await produce('escrow.payment-confirmed.v1', payment('o-trace-otlp'), {
      traceparent: gateway.traceparent,
    });
    await processed('pay-o-trace-otlp');
    child.child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  } finally {
    if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await receiver.close();
  }

  expect(child.output()).toContain('"msg":"traces on"');
  const exports = receiver.requests.filter((request) => request.path === '/v1/traces');
  expect(exports.length).toBeGreaterThan(0);
  for (const request of exports) {
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers['x-api-key']).toBe('secret key');
  }
  // Protobuf keeps ids as raw bytes and names as UTF-8: the gateway's trace, the span, the service.
  const body = Buffer.concat(exports.map((request) => request.body));
  expect(body.includes(Buffer.from(gateway.traceId, 'hex'))).toBe(true);
  expect(body.includes(Buffer.from(gateway.spanId, 'hex'))).toBe(true);
  expect(body.includes(Buffer.from('escrow.event escrow.payment-confirmed.v1'))).toBe(true);
  expect(body.includes(Buffer.from('escrow-otlp-test'))).toBe(true);
}, 120_000);
