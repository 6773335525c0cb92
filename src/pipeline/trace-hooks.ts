/**
 * What the pipeline tells tracing, and what it asks of it. Tracing stays
 * beside the work: the consumer runner, the slice handler and the inspection
 * timer call these hooks at their boundaries, and every event carries at
 * most two strings, the W3C `traceparent` and `tracestate` its outcomes are
 * published with (outbox.ts writes them into the outbox row's headers).
 * src/tracing implements the hooks; worker.ts wires them in.
 *
 * Off, the implementation is a handful of shared objects: no span, no
 * context object, no closure per event or per slice.
 */
import type { KafkaMessage } from 'kafkajs';
import type { EventResult, InboundEvent } from './events';

/** A slice of one partition's messages, followed from consume to the offset commit. */
export interface SliceTrace {
  /** The `traceparent` the outcomes of message `index` of the slice carry, if any. */
  traceparent(index: number, message: KafkaMessage): string | undefined;
  /** The `tracestate` that goes with it, if any. */
  tracestate(index: number, message: KafkaMessage): string | undefined;
  /** Message `index` could not be decoded or validated: it was dead-lettered, no event came of it. */
  deadLettered(index: number): void;
  /** The slice is applied; its last offset is being resolved and committed. */
  committing(): void;
  /** The slice is done: committed, or with `error` not applied (its messages come again). */
  end(error?: unknown): void;
}

/** A unit of work over events (a group's transaction, or one event's): one result per event, in order. */
export type ApplyWork<Args extends unknown[]> = (
  events: readonly InboundEvent[],
  ...rest: Args
) => Promise<EventResult[]>;

export interface PipelineTracing {
  /**
   * Starts following a slice of one partition's messages.
   * @param topic the inbound topic as the contract names it
   * @param readTopic the topic as read (with TOPIC_PREFIX)
   */
  slice(
    topic: string,
    readTopic: string,
    partition: number,
    messages: readonly KafkaMessage[],
  ): SliceTrace;
  /** The same unit of work, followed per event (decorated once, when the pipeline is built). */
  aroundApply<Args extends unknown[]>(work: ApplyWork<Args>): ApplyWork<Args>;
  /**
   * An event the worker makes itself (a timer's): applied by `work` in a
   * trace of its own, whose context the event, and so its outcomes, carry.
   */
  ownEvent(
    event: InboundEvent,
    work: (event: InboundEvent) => Promise<EventResult>,
  ): Promise<EventResult>;
}

const noSlice: SliceTrace = {
  traceparent: () => undefined,
  tracestate: () => undefined,
  deadLettered: () => undefined,
  committing: () => undefined,
  end: () => undefined,
};

/** Follows nothing and carries nothing: for the pipeline run outside the worker (tests, tools). */
export const untraced: PipelineTracing = {
  slice: () => noSlice,
  aroundApply: (work) => work,
  ownEvent: (event, work) => work(event),
};
