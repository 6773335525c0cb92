/**
 * What the recording hooks keep of an event while it is in flight, and the
 * names and statuses its spans share (recording.ts, slice-spans.ts).
 */
import { type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { AnchoredClock } from '@opentelemetry/core';

/** One event followed: its span, and the context its children and its outcomes continue. */
export interface FollowedEvent {
  readonly span: Span;
  /** Its slice's clock, which its children's times come from too. */
  readonly clock: AnchoredClock;
  readonly context: Context;
  /** Undefined only for a span without a valid context (a no-op tracer's). */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  /** The verdict a unit of work answered for it, or DEAD_LETTERED. */
  verdict: string | undefined;
}

export const spanNames = {
  event: (topic: string) => `escrow.event ${topic}`,
  apply: 'escrow.apply',
  commit: 'escrow.commit',
} as const;

/** Marks a span failed, with the exception recorded as a span event. */
export function failed(span: Span, error: unknown, message?: string): void {
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? exception.message });
}
