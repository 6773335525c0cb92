/**
 * Tracing off: no SDK, no span, no context object. What costs nothing is
 * still done: an inbound message's own `traceparent` (and `tracestate`) is
 * carried to the outcomes its event causes, so that a downstream consumer's
 * span joins the trace of the message that caused it, with this worker's hop
 * missing from it, as OpenTelemetry's API behaves without an SDK. A message
 * without a valid `traceparent` costs one header lookup.
 *
 * Every hook is a shared object: the slice trace is one for all slices, the
 * unit of work is returned undecorated, an own event is applied as it is.
 */
import type { PipelineTracing, SliceTrace } from '../pipeline/trace-hooks';
import { inboundTraceparent, inboundTracestate } from './kafka-headers';

const passedThrough: SliceTrace = {
  traceparent: (_index, message) => inboundTraceparent(message),
  tracestate: (_index, message) => inboundTracestate(message),
  deadLettered: () => undefined,
  committing: () => undefined,
  end: () => undefined,
};

export const passThrough: PipelineTracing = {
  slice: () => passedThrough,
  aroundApply: (work) => work,
  ownEvent: (event, work) => work(event),
};
