/**
 * The OpenTelemetry trace SDK, configured from TracingSettings: the service's
 * resource, the sampler OTEL_TRACES_SAMPLER names, and a batching processor
 * per exporter (OTLP over HTTP with protobuf, or the console). Loaded only
 * when traces are on (start-tracing.ts imports it on demand), so a worker
 * with traces off never loads the SDK.
 *
 * The provider is the worker's own, not registered globally: the worker
 * hands its tracer to the pipeline's hooks, and nothing else in the process
 * starts spans.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '../logging/logger';
import type { TracingSettings } from './settings';

/**
 * Three spans an event, ended together when a slice of up to 500 events
 * commits: the SDK's defaults (2,048 spans waiting, every 5 s) drop spans at
 * the first full slice of a few partitions. Past the queue, spans are dropped
 * (counted in a warning), never waited for.
 */
const BATCHES = { maxQueueSize: 8192, maxExportBatchSize: 1024, scheduledDelayMillis: 1000 };

export function createTracerProvider(settings: TracingSettings, log: Logger): TracerProvider {
  // The SDK reports export failures through its diagnostic logger: into the worker's log.
  diag.setLogger(diagnostics(log), DiagLogLevel.WARN);
  const spanProcessors = settings.exporters.map((name) =>
    name === 'otlp'
      ? new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({
            url: settings.otlpTracesUrl,
            headers: { ...settings.otlpHeaders },
          }),
          ...BATCHES,
        })
      : // For a person watching a terminal: each span printed as it ends.
        new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }),
  );
  return new TracerProvider({
    resource: defaultResource()
      .merge(detectResources({ detectors: [hostDetector, processDetector] }))
      .merge(resourceFromAttributes({ 'service.name': settings.serviceName })),
    sampler: samplerOf(settings),
    spanProcessors,
  });
}

function samplerOf(settings: TracingSettings): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerRatio);
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

function diagnostics(log: Logger): DiagLogger {
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) =>
      log[level](args.length > 0 ? { details: args } : {}, `OpenTelemetry: ${message}`);
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    verbose: at('trace'),
  };
}
