/**
 * Whether the worker traces, and how, read from its configuration (the
 * standard OTEL_* variables, parsed in src/config). Off unless an exporter
 * or an OTLP endpoint is named; OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off whatever else is set.
 */
import { type Config, otlpHeaders } from '../config';

export type TraceExporterName = 'otlp' | 'console';

export interface TracingSettings {
  readonly serviceName: string;
  readonly exporters: readonly TraceExporterName[];
  /** Where OTLP/HTTP (protobuf) exports go: the full URL of the traces resource. */
  readonly otlpTracesUrl: string;
  readonly otlpHeaders: Readonly<Record<string, string>>;
  readonly sampler: Config['OTEL_TRACES_SAMPLER'];
  /** For the traceidratio samplers: the share of new traces kept. */
  readonly samplerRatio: number;
}

/** OTLP/HTTP's default receiver, as the specification names it. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

/** The settings when traces are on; undefined when they are off. */
export function tracingSettings(config: Config): TracingSettings | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  const named = config.OTEL_TRACES_EXPORTER;
  const endpointSet =
    config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  if (named === undefined && !endpointSet) return undefined;
  const exporters = (named ?? ['otlp']).filter((name) => name !== 'none');
  if (exporters.length === 0) return undefined;
  return {
    serviceName: config.OTEL_SERVICE_NAME,
    exporters,
    otlpTracesUrl:
      config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      tracesUrl(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_ENDPOINT),
    otlpHeaders:
      config.OTEL_EXPORTER_OTLP_HEADERS === undefined
        ? {}
        : (otlpHeaders(config.OTEL_EXPORTER_OTLP_HEADERS) ?? {}),
    sampler: config.OTEL_TRACES_SAMPLER,
    samplerRatio: config.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}

/** The signal's path appended to the base endpoint, as the OTLP exporter specification says. */
function tracesUrl(base: string): string {
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`;
}
