/**
 * Traces are configured by OpenTelemetry's own variables, parsed once in
 * src/config: off unless an exporter or an endpoint is named, and every bad
 * value refused at start with what is allowed.
 */
import { ConfigError, loadConfig } from '../../../src/config';
import { tracingSettings } from '../../../src/tracing/settings';

const settingsOf = (env: NodeJS.ProcessEnv) => tracingSettings(loadConfig(env));
const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};

describe('on or off', () => {
  test('off with nothing set, and with only the service name or the sampler set', () => {
    expect(settingsOf({})).toBeUndefined();
    expect(
      settingsOf({ OTEL_SERVICE_NAME: 'escrow-eu', OTEL_TRACES_SAMPLER: 'always_on' }),
    ).toBeUndefined();
  });

  test('an OTLP endpoint turns traces on, exported to its /v1/traces with the defaults', () => {
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      serviceName: 'escrow-worker',
      exporters: ['otlp'],
      otlpTracesUrl: 'http://collector:4318/v1/traces',
      otlpHeaders: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    expect(
      settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/otlp/' })?.otlpTracesUrl,
    ).toBe('https://otlp.example.com/otlp/v1/traces');
  });

  test('the traces endpoint is taken as it is, before the base endpoint', () => {
    expect(
      settingsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/ingest',
      })?.otlpTracesUrl,
    ).toBe('http://traces:9999/ingest');
  });

  test("an exporter named turns traces on; otlp alone sends to the specification's default receiver", () => {
    expect(settingsOf({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({
      exporters: ['otlp'],
      otlpTracesUrl: 'http://localhost:4318/v1/traces',
    });
    expect(settingsOf({ OTEL_TRACES_EXPORTER: 'console' })?.exporters).toEqual(['console']);
    expect(settingsOf({ OTEL_TRACES_EXPORTER: 'otlp, console' })?.exporters).toEqual([
      'otlp',
      'console',
    ]);
  });

  test('none and OTEL_SDK_DISABLED=true turn traces off whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(settingsOf({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(settingsOf({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(
      settingsOf({ OTEL_TRACES_EXPORTER: 'console', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
    expect(settingsOf({ ...endpoint, OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  test('service name, sampler, ratio and headers are read', () => {
    expect(
      settingsOf({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_SERVICE_NAME: 'escrow-eu',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20123, x-team = payments',
      }),
    ).toMatchObject({
      serviceName: 'escrow-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      otlpHeaders: { 'x-api-key': 'abc 123', 'x-team': 'payments' },
    });
  });
});

describe('refused at start, saying what is allowed', () => {
  test.each([
    ['OTEL_TRACES_EXPORTER', 'zipkin', 'otlp, console or none'],
    ['OTEL_TRACES_EXPORTER', 'none,otlp', 'otlp, console or none'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', 'http(s) base URL'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://collector:4317', 'full http(s) URL'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'grpc and http/json are not built in'],
    ['OTEL_SERVICE_NAME', 'escrow worker', 'without spaces'],
    ['OTEL_TRACES_SAMPLER', 'sometimes', 'parentbased_traceidratio'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5', 'a decimal from 0 to 1'],
    ['OTEL_SDK_DISABLED', 'yes', 'true (no traces'],
  ])('%s=%s', (name, value, allowed) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${name}: given "${value}"; allowed: `);
    expect(problems[0]).toContain(allowed);
  });

  test('malformed export headers are refused without echoing them: they hold credentials', () => {
    for (const value of ['api-key', 'x-api-key=%zz', 'bad name=1', '=1']) {
      const problems = problemsOf({ OTEL_EXPORTER_OTLP_HEADERS: value });
      expect(problems).toEqual([
        expect.stringContaining('OTEL_EXPORTER_OTLP_HEADERS: given (hidden)'),
      ]);
    }
  });

  test('a sampler ratio with a sampler that takes none is refused, naming the fix', () => {
    expect(problemsOf({ OTEL_TRACES_SAMPLER_ARG: '0.1' })).toEqual([
      'OTEL_TRACES_SAMPLER_ARG is set but OTEL_TRACES_SAMPLER=parentbased_always_on takes no ratio: set OTEL_TRACES_SAMPLER to parentbased_traceidratio (or traceidratio), or unset OTEL_TRACES_SAMPLER_ARG.',
    ]);
    expect(
      problemsOf({ OTEL_TRACES_SAMPLER_ARG: '0.1', OTEL_TRACES_SAMPLER: 'traceidratio' }),
    ).toEqual([]);
  });
});
