/**
 * With traces off the worker starts no SDK (it does not even load it), the
 * process's OpenTelemetry API stays its no-op, and the hooks the pipeline
 * calls are shared objects that only pass an inbound traceparent through.
 * With traces on, the SDK is loaded and started, and shut down again.
 */
import { trace } from '@opentelemetry/api';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/logging/logger';
import type { EventResult, InboundEvent } from '../../../src/pipeline/events';
import { shutDownWithin, startTracing } from '../../../src/tracing/start-tracing';

const mockLoaded: string[] = [];
jest.mock('@opentelemetry/sdk-trace', () => {
  mockLoaded.push('@opentelemetry/sdk-trace');
  return jest.requireActual<object>('@opentelemetry/sdk-trace');
});
jest.mock('@opentelemetry/exporter-trace-otlp-proto', () => {
  mockLoaded.push('@opentelemetry/exporter-trace-otlp-proto');
  return jest.requireActual<object>('@opentelemetry/exporter-trace-otlp-proto');
});

const log = createLogger({ LOG_LEVEL: 'silent' });
const message = (headers: IHeaders): KafkaMessage => ({
  key: Buffer.from('o-1'),
  value: Buffer.from('x'),
  timestamp: '0',
  attributes: 0,
  offset: '7',
  headers,
});
const event: InboundEvent = {
  topic: 'timer.inspection',
  partition: null,
  offset: null,
  occurredAt: new Date(0),
  command: { type: 'INSPECTION_ELAPSED', eventId: 'e-1', orderId: 'o-1', milestoneId: 'm-1' },
};
const applied: EventResult = { verdict: 'APPLIED', outcomeIds: [], ledgerTransactions: 0 };

test('off: no SDK loaded or started, the API stays a no-op, and the hooks are shared objects (no span, context or closure per slice or event)', async () => {
  const tracing = await startTracing(loadConfig({}), log);

  expect(tracing.enabled).toBe(false);
  expect(mockLoaded).toEqual([]);
  const probe = trace.getTracer('probe').startSpan('probe');
  expect(probe.isRecording()).toBe(false);
  expect(probe.spanContext().traceId).toBe('00000000000000000000000000000000');

  const { pipeline } = tracing;
  const messages = [message({})];
  const slice = pipeline.slice('escrow.orders.v1', 'p-escrow.orders.v1', 0, messages);
  // One shared slice trace, the unit of work undecorated, an own event applied as it is.
  expect(pipeline.slice('escrow.disputes.v1', 'escrow.disputes.v1', 2, [])).toBe(slice);
  const work = (events: readonly InboundEvent[]) => Promise.resolve(events.map(() => applied));
  expect(pipeline.aroundApply(work)).toBe(work);
  let seen: InboundEvent | undefined;
  await pipeline.ownEvent(event, (given) => {
    seen = given;
    return Promise.resolve(applied);
  });
  expect(seen).toBe(event);
  expect(slice.traceparent(0, messages[0]!)).toBeUndefined();
  expect(slice.tracestate(0, messages[0]!)).toBeUndefined();
  await tracing.shutdown();
  expect(mockLoaded).toEqual([]);
});

test('off: an inbound traceparent and tracestate are passed through as they came, an invalid one is not', async () => {
  const { pipeline } = await startTracing(loadConfig({}), log);
  const slice = pipeline.slice('escrow.orders.v1', 'escrow.orders.v1', 0, []);
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const valid = message({ traceparent: Buffer.from(traceparent), tracestate: 'vendor=a,other=b' });
  expect(slice.traceparent(0, valid)).toBe(traceparent);
  expect(slice.tracestate(0, valid)).toBe('vendor=a,other=b');
  expect(slice.tracestate(0, message({ tracestate: 'vendor=a' }))).toBeUndefined();
  for (const invalid of [
    'garbage',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
  ]) {
    const bad = message({ traceparent: invalid, tracestate: 'vendor=a' });
    expect(slice.traceparent(0, bad)).toBeUndefined();
    expect(slice.tracestate(0, bad)).toBeUndefined();
  }
  expect(mockLoaded).toEqual([]);
});

test('on: the SDK is loaded and started from the configuration, with its sampler, without registering globally', async () => {
  const tracing = await startTracing(
    loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      // Nothing sampled, so nothing is exported to the address above.
      OTEL_TRACES_SAMPLER: 'always_off',
    }),
    log,
  );
  expect(tracing.enabled).toBe(true);
  expect(mockLoaded.sort()).toEqual([
    '@opentelemetry/exporter-trace-otlp-proto',
    '@opentelemetry/sdk-trace',
  ]);
  const messages = [message({})];
  const slice = tracing.pipeline.slice('escrow.orders.v1', 'escrow.orders.v1', 0, messages);
  // A span of its own (not the message's: it has none), not sampled.
  expect(slice.traceparent(0, messages[0]!)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  slice.end();
  expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  await tracing.shutdown();
});

test('a stop waits for the last export only so long, and says so when it gives up', async () => {
  const warnings: string[] = [];
  const watching = { warn: (_fields: object, message: string) => warnings.push(message) };
  const hanging = { shutdown: () => new Promise<void>(() => undefined) };
  const started = Date.now();
  await shutDownWithin(hanging, 50, watching as unknown as typeof log);
  expect(Date.now() - started).toBeLessThan(1000);
  expect(warnings).toEqual([
    'traces: the last spans were not exported in time; stopping without them',
  ]);
  await shutDownWithin(
    { shutdown: () => Promise.resolve() },
    50,
    watching as unknown as typeof log,
  );
  expect(warnings).toHaveLength(1);
});
