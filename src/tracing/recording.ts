/**
 * Tracing on: a span per event, beside the batching. Events go through the
 * worker in slices and group commits (one transaction for many), but each
 * gets a trace of its own:
 *
 *   escrow.event <topic>   CONSUMER, child of the message's `traceparent`
 *                          (a new trace when it has none), from the slice's
 *                          hand-over to its offset commit
 *     escrow.apply         the transaction its event went through (lock,
 *                          load → plan → write, retries), one per attempt:
 *                          every event of a group has its own, of one length
 *     escrow.commit        its slice's offset resolved and committed
 *
 * The event span's context is what its event carries (InboundEvent
 * traceparent), so its outcomes' messages continue it. An event the worker
 * makes itself (the inspection timer's) gets `escrow.event <topic>` as the
 * root of a new trace, with its `escrow.apply`.
 *
 * Spans are found by the traceparent their events carry: it holds the span's
 * own id, so it is unique while the event is in flight. Their times come from
 * one clock per slice, read once from the wall and then from the monotonic
 * clock, so that each event's children fall inside its span in order (each
 * span reading the wall clock on its own, at millisecond resolution, let a
 * child end after its parent).
 */
import {
  type Attributes,
  type Context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AnchoredClock, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { KafkaMessage } from 'kafkajs';
import type { EscrowCommand } from '../domain/escrow';
import type { EventResult, InboundEvent } from '../pipeline/events';
import type { ApplyWork, PipelineTracing, SliceTrace } from '../pipeline/trace-hooks';
import { failed, type FollowedEvent, spanNames } from './followed-event';
import { kafkaHeaderGetter } from './kafka-headers';
import { FollowedSlice } from './slice-spans';

interface Applying {
  readonly followed: FollowedEvent;
  readonly span: Span;
}

export class RecordingTracing implements PipelineTracing {
  private readonly propagator = new W3CTraceContextPropagator();
  /** The events in flight, by the traceparent they carry. */
  private readonly inFlight = new Map<string, FollowedEvent>();

  /** Forgets an event whose span ends; handed to each slice's spans. */
  private readonly forget = (followed: FollowedEvent): void => {
    if (followed.traceparent !== undefined) this.inFlight.delete(followed.traceparent);
  };

  constructor(
    private readonly tracer: Tracer,
    private readonly consumerGroup: string,
  ) {}

  /** Events whose span has not ended yet (each slice's end, and each own event's, forgets its own). */
  get eventsInFlight(): number {
    return this.inFlight.size;
  }

  slice(
    topic: string,
    readTopic: string,
    partition: number,
    messages: readonly KafkaMessage[],
  ): SliceTrace {
    const clock = new AnchoredClock(Date, performance);
    const followed = messages.map((message) =>
      this.follow(
        spanNames.event(topic),
        clock,
        this.propagator.extract(ROOT_CONTEXT, message.headers ?? {}, kafkaHeaderGetter),
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': readTopic,
            'messaging.destination.partition.id': String(partition),
            'messaging.consumer.group.name': this.consumerGroup,
            'messaging.kafka.offset': Number(message.offset),
          },
        },
      ),
    );
    return new FollowedSlice(this.tracer, this.forget, followed, clock, messages.at(-1)?.offset);
  }

  aroundApply<Args extends unknown[]>(work: ApplyWork<Args>): ApplyWork<Args> {
    return (events, ...rest) => this.applying(events, () => work(events, ...rest));
  }

  async ownEvent(
    event: InboundEvent,
    work: (event: InboundEvent) => Promise<EventResult>,
  ): Promise<EventResult> {
    const clock = new AnchoredClock(Date, performance);
    const followed = this.follow(spanNames.event(event.topic), clock, ROOT_CONTEXT, {
      kind: SpanKind.INTERNAL,
      root: true,
    });
    const traced: InboundEvent = {
      ...event,
      traceparent: followed.traceparent,
      tracestate: followed.tracestate,
    };
    try {
      const [result] = await this.applying([traced], async () => [await work(traced)]);
      return result!;
    } catch (error) {
      failed(followed.span, error);
      throw error;
    } finally {
      this.forget(followed);
      followed.span.end(clock.now());
    }
  }

  /** Starts an event's span under `parent`; its context is what the event will carry. */
  private follow(
    name: string,
    clock: AnchoredClock,
    parent: Context,
    options: { kind: SpanKind; attributes?: Attributes; root?: boolean },
  ): FollowedEvent {
    const span = this.tracer.startSpan(name, { ...options, startTime: clock.now() }, parent);
    const context = trace.setSpan(ROOT_CONTEXT, span);
    const carrier: Record<string, string> = {};
    this.propagator.inject(context, carrier, defaultTextMapSetter);
    const followed: FollowedEvent = {
      span,
      clock,
      context,
      traceparent: carrier.traceparent,
      tracestate: carrier.tracestate,
      verdict: undefined,
    };
    if (followed.traceparent !== undefined) this.inFlight.set(followed.traceparent, followed);
    return followed;
  }

  /** A unit of work over events: an `escrow.apply` span for each of them, ended with its verdict. */
  private async applying(
    events: readonly InboundEvent[],
    run: () => Promise<EventResult[]>,
  ): Promise<EventResult[]> {
    const started: (Applying | undefined)[] = events.map((event) =>
      this.startApply(event, events.length),
    );
    let results: EventResult[];
    try {
      results = await run();
    } catch (error) {
      for (const applying of started) {
        if (applying === undefined) continue;
        failed(applying.span, error);
        applying.span.end(applying.followed.clock.now());
      }
      throw error;
    }
    for (const [index, applying] of started.entries()) {
      const result = results[index];
      if (applying === undefined || result === undefined) continue;
      const attributes: Attributes = {
        'escrow.verdict': result.verdict,
        'escrow.outcomes': result.outcomeIds.length,
      };
      if (result.reason !== undefined) attributes['escrow.reason'] = result.reason;
      applying.followed.verdict = result.verdict;
      applying.followed.span.setAttributes(attributes);
      applying.span.setAttributes(attributes);
      applying.span.end(applying.followed.clock.now());
    }
    return results;
  }

  private startApply(event: InboundEvent, eventsInTransaction: number): Applying | undefined {
    const followed =
      event.traceparent === undefined ? undefined : this.inFlight.get(event.traceparent);
    if (followed === undefined) return undefined;
    followed.span.setAttributes(commandAttributes(event.command));
    const span = this.tracer.startSpan(
      spanNames.apply,
      {
        kind: SpanKind.INTERNAL,
        startTime: followed.clock.now(),
        attributes: { 'escrow.transaction.events': eventsInTransaction },
      },
      followed.context,
    );
    return { followed, span };
  }
}

function commandAttributes(command: EscrowCommand): Attributes {
  const attributes: Attributes = {
    'escrow.event.id': command.eventId,
    'escrow.event.type': command.type,
    'escrow.order.id': command.orderId,
  };
  if ('milestoneId' in command && typeof command.milestoneId === 'string')
    attributes['escrow.milestone.id'] = command.milestoneId;
  return attributes;
}
