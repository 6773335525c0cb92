/**
 * The spans of one slice's messages with tracing on, from the slice's
 * hand-over to its offset commit: what became of each message (a verdict,
 * dead-lettered, or left for Kafka to deliver again), and an escrow.commit
 * child for the offset. Its events' apply spans are recording.ts's.
 */
import { type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { AnchoredClock } from '@opentelemetry/core';
import type { SliceTrace } from '../pipeline/trace-hooks';
import { failed, type FollowedEvent, spanNames } from './followed-event';

/** The spans of one slice's messages, from hand-over to the offset commit. */
export class FollowedSlice implements SliceTrace {
  private commits: Span[] = [];

  constructor(
    private readonly tracer: Tracer,
    /** Forgets an event whose span ends (RecordingTracing's in-flight map). */
    private readonly forget: (followed: FollowedEvent) => void,
    private readonly followed: readonly FollowedEvent[],
    private readonly clock: AnchoredClock,
    private readonly lastOffset: string | undefined,
  ) {}

  traceparent(index: number): string | undefined {
    return this.followed[index]?.traceparent;
  }

  tracestate(index: number): string | undefined {
    return this.followed[index]?.tracestate;
  }

  deadLettered(index: number): void {
    const followed = this.followed[index];
    if (followed === undefined) return;
    followed.verdict = 'DEAD_LETTERED';
    followed.span.setAttribute('escrow.verdict', 'DEAD_LETTERED');
    followed.span.setStatus({
      code: SpanStatusCode.ERROR,
      message: 'undecodable or invalid: dead-lettered to escrow.dlq.v1',
    });
  }

  committing(): void {
    const startTime = this.clock.now();
    this.commits = this.followed.map((followed) =>
      this.tracer.startSpan(
        spanNames.commit,
        {
          kind: SpanKind.INTERNAL,
          startTime,
          attributes:
            this.lastOffset === undefined
              ? {}
              : { 'messaging.kafka.offset': Number(this.lastOffset) },
        },
        followed.context,
      ),
    );
  }

  end(error?: unknown): void {
    const endTime = this.clock.now();
    for (const commit of this.commits) commit.end(endTime);
    for (const followed of this.followed) {
      if (error !== undefined) {
        failed(
          followed.span,
          error,
          followed.verdict === undefined
            ? 'not applied; Kafka delivers it again'
            : 'applied, but its offset was not committed: its redelivery will be a duplicate',
        );
      } else if (followed.verdict === undefined) {
        // Applied in no unit of work, yet the slice went on: the one-event
        // fallback could not process it and dead-lettered it (PROCESSING_FAILED).
        followed.span.setAttribute('escrow.verdict', 'DEAD_LETTERED');
        followed.span.setStatus({
          code: SpanStatusCode.ERROR,
          message: 'processing failed: dead-lettered to escrow.dlq.v1',
        });
      }
      this.forget(followed);
      followed.span.end(endTime);
    }
  }
}
