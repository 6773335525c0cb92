/**
 * Traces for the worker (docs/operations.md, "Traces"): the pipeline's
 * tracing hooks, on or off as the configuration says.
 *
 * On (an OTLP endpoint or OTEL_TRACES_EXPORTER set), the SDK is loaded and
 * started, and every event gets its span (recording.ts). Off, the SDK is not
 * even loaded, and the hooks only pass an inbound `traceparent` through to
 * the outcomes (pass-through.ts). A tracer provider handed in (tests) turns
 * traces on with it, whatever the configuration says.
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Config } from '../config';
import type { Logger } from '../logging/logger';
import type { PipelineTracing } from '../pipeline/trace-hooks';
import { passThrough } from './pass-through';
import { RecordingTracing } from './recording';
import { tracingSettings } from './settings';

export interface Tracing {
  /** True when spans are recorded. */
  readonly enabled: boolean;
  readonly pipeline: PipelineTracing;
  /** Exports what is still buffered and stops the SDK it started (nothing to do otherwise). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Used instead of a provider from the configuration; its owner shuts it down. */
  readonly tracerProvider?: TracerProvider;
}

/** The instrumentation scope of the worker's spans. */
export const TRACER_NAME = 'escrow-worker';

export async function startTracing(
  config: Config,
  log: Logger,
  options: TracingOptions = {},
): Promise<Tracing> {
  if (options.tracerProvider !== undefined) {
    return {
      enabled: true,
      pipeline: new RecordingTracing(
        options.tracerProvider.getTracer(TRACER_NAME),
        config.CONSUMER_GROUP,
      ),
      shutdown: () => Promise.resolve(),
    };
  }
  const settings = tracingSettings(config);
  if (settings === undefined) {
    return { enabled: false, pipeline: passThrough, shutdown: () => Promise.resolve() };
  }
  const { createTracerProvider } = await import('./sdk');
  const provider = createTracerProvider(settings, log);
  log.info(
    {
      exporters: settings.exporters,
      ...(settings.exporters.includes('otlp')
        ? { otlp: withoutCredentials(settings.otlpTracesUrl) }
        : {}),
      sampler: settings.sampler,
      serviceName: settings.serviceName,
    },
    'traces on',
  );
  return {
    enabled: true,
    pipeline: new RecordingTracing(provider.getTracer(TRACER_NAME), config.CONSUMER_GROUP),
    shutdown: () => shutDownWithin(provider, SHUTDOWN_WAIT_MS, log),
  };
}

/**
 * How long a stop waits for the last spans to be exported: a receiver that
 * does not answer must not use up a supervisor's grace period (30 s in
 * Kubernetes) and get the worker killed before it exits on its own.
 */
const SHUTDOWN_WAIT_MS = 5000;

export async function shutDownWithin(
  provider: { shutdown(): Promise<void> },
  waitMs: number,
  log: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((resolve) => {
    timer = setTimeout(() => resolve('gave up'), waitMs);
  });
  try {
    const outcome = await Promise.race([provider.shutdown().then(() => 'done' as const), gaveUp]);
    if (outcome === 'gave up')
      log.warn(
        { waitMs },
        'traces: the last spans were not exported in time; stopping without them',
      );
  } catch (error) {
    log.warn({ err: error }, 'traces: the last spans could not be exported');
  } finally {
    clearTimeout(timer);
  }
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
