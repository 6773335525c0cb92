/**
 * The W3C trace context (`traceparent`, `tracestate`) in a Kafka message's
 * headers, as KafkaJS hands them over (Buffers, or strings, or a list of
 * either when a header is repeated): read for the propagator, and read as
 * text to pass through when tracing is off.
 */
import { isSpanContextValid, type TextMapGetter } from '@opentelemetry/api';
import {
  parseTraceParent,
  TRACE_PARENT_HEADER,
  TRACE_STATE_HEADER,
  TraceState,
} from '@opentelemetry/core';
import type { IHeaders, KafkaMessage } from 'kafkajs';

type HeaderValue = IHeaders[string];

function text(value: HeaderValue): string | undefined {
  if (value === undefined) return undefined;
  // A repeated header: the first, as the W3C propagator reads a repeated traceparent.
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Reads KafkaJS headers for OpenTelemetry's propagators. */
export const kafkaHeaderGetter: TextMapGetter<IHeaders> = {
  get(headers, name) {
    const value = headers[name];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : value.toString();
  },
  keys: (headers) => Object.keys(headers),
};

/** The message's `traceparent` when it is a valid one (a version, a non-zero trace and span id, flags). */
export function inboundTraceparent(message: KafkaMessage): string | undefined {
  const value = text(message.headers?.[TRACE_PARENT_HEADER])?.trim();
  if (value === undefined) return undefined;
  const spanContext = parseTraceParent(value);
  return spanContext !== null && isSpanContextValid(spanContext) ? value : undefined;
}

/** The `tracestate` that goes with a valid `traceparent`, its malformed members dropped. */
export function inboundTracestate(message: KafkaMessage): string | undefined {
  const value = text(message.headers?.[TRACE_STATE_HEADER]);
  if (value === undefined || inboundTraceparent(message) === undefined) return undefined;
  const serialized = new TraceState(value).serialize();
  return serialized === '' ? undefined : serialized;
}
