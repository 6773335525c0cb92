/**
 * The spans of the pipeline's hooks with tracing on, recorded in memory:
 * one escrow.event span per message whatever becomes of it, an escrow.apply
 * per unit of work it went through (a group's transaction shared with other
 * slices' events, a failed attempt, the one-event fallback), escrow.commit
 * for its offset, and the status that says what became of it.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { EventResult, InboundEvent } from '../../../src/pipeline/events';
import { RecordingTracing } from '../../../src/tracing/recording';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracing = new RecordingTracing(provider.getTracer('test'), 'group-1');

afterEach(() => {
  // Every test ends what it starts: nothing stays in flight.
  expect(tracing.eventsInFlight).toBe(0);
  exporter.reset();
});
afterAll(() => provider.shutdown());

const message = (offset: string, headers: IHeaders = {}): KafkaMessage => ({
  key: Buffer.from('o-1'),
  value: Buffer.from('x'),
  timestamp: '0',
  attributes: 0,
  offset,
  headers,
});
/** The event prepare-message.ts makes of message `index`, carrying the slice's context for it. */
const eventOf = (
  slice: ReturnType<RecordingTracing['slice']>,
  messages: readonly KafkaMessage[],
  index: number,
  orderId: string,
): InboundEvent => ({
  topic: 'escrow.orders.v1',
  partition: 0,
  offset: messages[index]!.offset,
  occurredAt: new Date(0),
  command: { type: 'ORDER_CANCELLED', eventId: `cancel-${orderId}`, orderId },
  traceparent: slice.traceparent(index, messages[index]!),
  tracestate: slice.tracestate(index, messages[index]!),
});
const result = (verdict: EventResult['verdict'], outcomes = 1): EventResult => ({
  verdict,
  outcomeIds: Array.from({ length: outcomes }, (_, n) => `outcome-${n}`),
  ledgerTransactions: 0,
});
const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((span) => span.name === name);
const childrenOf = (parent: ReadableSpan) =>
  spans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

test("each message's span continues its traceparent and carries its own context onward", () => {
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const messages = [message('10', { traceparent: parent, tracestate: 'vendor=a' }), message('11')];
  const slice = tracing.slice('escrow.orders.v1', 'p-escrow.orders.v1', 3, messages);
  const [first, second] = [0, 1].map((index) => slice.traceparent(index, messages[index]!));
  expect(first).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  expect(first).not.toBe(parent);
  expect(slice.tracestate(0, messages[0]!)).toBe('vendor=a');
  expect(second).not.toContain('0af7651916cd43dd8448eb211c80319c');
  slice.deadLettered(0);
  slice.deadLettered(1);
  slice.end();

  const [withParent, root] = named('escrow.event escrow.orders.v1');
  expect(withParent!.kind).toBe(SpanKind.CONSUMER);
  expect(withParent!.parentSpanContext).toMatchObject({
    spanId: 'b7ad6b7169203331',
    isRemote: true,
  });
  expect(`00-${withParent!.spanContext().traceId}-${withParent!.spanContext().spanId}-01`).toBe(
    first,
  );
  expect(root!.parentSpanContext).toBeUndefined();
  expect(root!.attributes).toMatchObject({
    'messaging.destination.name': 'p-escrow.orders.v1',
    'messaging.destination.partition.id': '3',
    'messaging.kafka.offset': 11,
    'messaging.consumer.group.name': 'group-1',
  });
});

test('a dead-lettered message: its span says so, with an error status', () => {
  const messages = [message('1')];
  const slice = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 0, messages);
  slice.deadLettered(0);
  slice.committing();
  slice.end();
  const [span] = named('escrow.event escrow.orders.v1');
  expect(span!.attributes['escrow.verdict']).toBe('DEAD_LETTERED');
  expect(span!.status).toEqual({
    code: SpanStatusCode.ERROR,
    message: 'undecodable or invalid: dead-lettered to escrow.dlq.v1',
  });
  expect(childrenOf(span!).map((child) => child.name)).toEqual(['escrow.commit']);
});

test("one transaction over two slices' events: each event its own apply span, sized by the transaction", async () => {
  const first = [message('5')];
  const second = [message('9')];
  const sliceA = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 0, first);
  const sliceB = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 1, second);
  const events = [eventOf(sliceA, first, 0, 'o-a'), eventOf(sliceB, second, 0, 'o-b')];
  const group = tracing.aroundApply((given: readonly InboundEvent[]) =>
    Promise.resolve([result('APPLIED', 2), result('REJECTED', 1)]).then((results) => {
      expect(given).toBe(events);
      return results;
    }),
  );
  await group(events);
  for (const slice of [sliceA, sliceB]) {
    slice.committing();
    slice.end();
  }

  const eventSpans = named('escrow.event escrow.orders.v1');
  expect(eventSpans.map((span) => span.attributes['escrow.order.id'])).toEqual(['o-a', 'o-b']);
  expect(eventSpans.map((span) => span.attributes['escrow.verdict'])).toEqual([
    'APPLIED',
    'REJECTED',
  ]);
  for (const span of eventSpans) {
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const children = childrenOf(span);
    expect(children.map((child) => child.name).sort()).toEqual(['escrow.apply', 'escrow.commit']);
    const apply = children.find((child) => child.name === 'escrow.apply')!;
    expect(apply.attributes['escrow.transaction.events']).toBe(2);
    expect(apply.attributes['escrow.verdict']).toBe(span.attributes['escrow.verdict']);
  }
});

test('a group that fails, then the event alone: a failed apply span and a second one with the verdict', async () => {
  const messages = [message('3')];
  const slice = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 0, messages);
  const events = [eventOf(slice, messages, 0, 'o-retry')];
  const failing = tracing.aroundApply(() => Promise.reject(new Error('ledger refused')));
  await expect(failing(events)).rejects.toThrow('ledger refused');
  await tracing.aroundApply(() => Promise.resolve([result('APPLIED')]))(events);
  slice.end();

  const [span] = named('escrow.event escrow.orders.v1');
  expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  expect(span!.attributes['escrow.verdict']).toBe('APPLIED');
  const applies = childrenOf(span!).filter((child) => child.name === 'escrow.apply');
  expect(applies.map((apply) => apply.status)).toEqual([
    { code: SpanStatusCode.ERROR, message: 'ledger refused' },
    { code: SpanStatusCode.UNSET },
  ]);
  expect(applies[0]!.events.map((event) => event.name)).toEqual(['exception']);
});

test('an event no unit of work could apply, while its slice went on, was dead-lettered as PROCESSING_FAILED', async () => {
  const messages = [message('4')];
  const slice = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 0, messages);
  const events = [eventOf(slice, messages, 0, 'o-defect')];
  await expect(
    tracing.aroundApply(() => Promise.reject(new Error('a defect')))(events),
  ).rejects.toThrow();
  slice.end();
  const [span] = named('escrow.event escrow.orders.v1');
  expect(span!.attributes['escrow.verdict']).toBe('DEAD_LETTERED');
  expect(span!.status).toEqual({
    code: SpanStatusCode.ERROR,
    message: 'processing failed: dead-lettered to escrow.dlq.v1',
  });
});

test('a slice left for Kafka to deliver again: every span ends in error with the exception', () => {
  const messages = [message('1'), message('2')];
  const slice = tracing.slice('escrow.orders.v1', 'escrow.orders.v1', 0, messages);
  slice.end(new Error('Postgres is down'));
  for (const span of named('escrow.event escrow.orders.v1')) {
    expect(span.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'not applied; Kafka delivers it again',
    });
    expect(span.events[0]!.attributes).toMatchObject({
      'exception.message': 'Postgres is down',
    });
  }
});

test("an event of the worker's own starts a new trace, which the event carries while applied", async () => {
  let carried: string | undefined;
  await tracing.ownEvent(
    {
      topic: 'timer.inspection',
      partition: null,
      offset: null,
      occurredAt: new Date(0),
      command: { type: 'INSPECTION_ELAPSED', eventId: 'i-1', orderId: 'o-1', milestoneId: 'm-1' },
    },
    (event) => {
      carried = event.traceparent;
      return Promise.resolve(result('APPLIED', 2));
    },
  );
  const [span] = named('escrow.event timer.inspection');
  expect(span!.kind).toBe(SpanKind.INTERNAL);
  expect(span!.parentSpanContext).toBeUndefined();
  expect(carried).toBe(`00-${span!.spanContext().traceId}-${span!.spanContext().spanId}-01`);
  expect(span!.attributes).toMatchObject({ 'escrow.verdict': 'APPLIED', 'escrow.outcomes': 2 });
  expect(childrenOf(span!).map((child) => child.name)).toEqual(['escrow.apply']);
});
