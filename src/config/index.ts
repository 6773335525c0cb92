/**
 * The worker's configuration: every environment variable of CONTRACT.md, parsed
 * once at start with zod and frozen. Nothing else in the worker reads
 * `process.env`. Defaults equal what `npm run services:up` starts, so a local
 * worker needs no configuration at all.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { databaseUrlProblems } from './database-url';

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const decimalFraction = /^(0(\.\d+)?|1(\.0+)?)$/;

interface Variable<T> {
  /** What is allowed, in words a person fixing the value can act on. */
  allowed: string;
  schema: z.ZodType<T>;
}

function variable<T>(allowed: string, schema: z.ZodType<T>): Variable<T> {
  return { allowed, schema };
}

const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

/**
 * OTEL_EXPORTER_OTLP_HEADERS as OpenTelemetry writes it: name=value pairs,
 * comma-separated, values percent-encoded; undefined when a pair is not one
 * (no `=`, a name that is no HTTP header name, a bad percent-escape). Kept as
 * the string in the config, so that configEnvironment writes it back as given.
 */
export function otlpHeaders(value: string): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  for (const pair of commaList(value)) {
    const split = pair.indexOf('=');
    const name = pair.slice(0, split).trim();
    if (split <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return undefined;
    try {
      headers[name] = decodeURIComponent(pair.slice(split + 1).trim());
    } catch {
      return undefined;
    }
  }
  return headers;
}

const urlWithProtocol = (protocols: string[]) => (value: string) => {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

/** A path that can be read now: the worker fails at start, not at its first connection. */
const readableFile = z
  .string()
  .min(1)
  .refine((path) => {
    try {
      readFileSync(path);
      return true;
    } catch {
      return false;
    }
  })
  .optional();

export const variables = {
  KAFKA_BROKERS: variable(
    'comma-separated host:port pairs, e.g. 127.0.0.1:9092,10.0.0.2:9092',
    z
      .string()
      .transform(commaList)
      .pipe(z.array(z.string().regex(hostPort)).min(1)),
  ),
  SCHEMA_REGISTRY_URL: variable(
    'an http(s) URL of a Confluent-API schema registry, e.g. http://127.0.0.1:8081',
    z.string().refine(urlWithProtocol(['http:', 'https:'])),
  ),
  DATABASE_URL: variable(
    'a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/escrow (over TLS with ?sslmode=verify-full&sslrootcert=/path/to/ca.pem)',
    z.string().refine(urlWithProtocol(['postgres:', 'postgresql:'])),
  ),
  DATABASE_WORKER_ROLE: variable(
    "unset (`npm run migrate` grants nothing), or the Postgres role the worker connects as: migrate gives it exactly the worker's rights (lowercase letters, digits, _ and -)",
    z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,62}$/)
      .optional(),
  ),
  REDIS_URL: variable(
    'one redis:// URL (rediss:// for TLS; a password or ACL user in it, as rediss://user:password@host:6379), or several comma-separated for a Redlock quorum (use an odd number)',
    z
      .string()
      .transform(commaList)
      .pipe(z.array(z.string().refine(urlWithProtocol(['redis:', 'rediss:']))).min(1)),
  ),
  REDIS_CA_FILE: variable(
    'unset (the system trust store), or a readable PEM file of the CA that signs the Redis servers (with rediss:// URLs only)',
    readableFile,
  ),
  TOPIC_PREFIX: variable(
    'empty, or letters, digits, ".", "_" and "-" (at most 100), prepended to every topic name',
    z.string().regex(/^[A-Za-z0-9._-]{0,100}$/),
  ),
  CONSUMER_GROUP: variable(
    'a non-empty Kafka consumer group id of letters, digits, ".", "_" and "-"',
    z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
  ),
  OPS_PORT: variable(
    'a TCP port number from 1 to 65535',
    z
      .string()
      .regex(/^\d{1,5}$/)
      .transform(Number)
      .pipe(z.number().int().min(1).max(65535)),
  ),
  OPS_TOKEN: variable(
    'unset (the operations API is open), or a secret of at least 16 characters without spaces',
    z
      .string()
      .regex(/^\S{16,}$/)
      .optional(),
  ),
  PLATFORM_FEE_RATE: variable(
    'a decimal fraction from 0 to 1 written as a string, e.g. 0.10 for 10%',
    z.string().regex(decimalFraction),
  ),
  SCHEMA_REGISTRY_USERNAME: variable(
    "unset, or the user for the registry's HTTP basic auth (an API key on Confluent Cloud), with SCHEMA_REGISTRY_PASSWORD",
    z.string().min(1).max(1000).optional(),
  ),
  SCHEMA_REGISTRY_PASSWORD: variable(
    "unset, or the password for the registry's basic auth; or SCHEMA_REGISTRY_PASSWORD_FILE naming a file that holds it",
    z.string().min(1).max(10_000).optional(),
  ),
  SCHEMA_REGISTRY_CA_FILE: variable(
    'unset (the system trust store), or a readable PEM file of the CA that signs the registry (with an https:// SCHEMA_REGISTRY_URL)',
    readableFile,
  ),
  SCHEMA_AUTO_REGISTER: variable(
    'true (register the schemas at start) or false (read-only: look up registered ids; register with `escrow-worker schemas register`)',
    z.enum(['true', 'false']).transform((value) => value === 'true'),
  ),
  KAFKA_SECURITY_PROTOCOL: variable(
    'one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (as Kafka names them; managed clusters need SASL_SSL)',
    z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']),
  ),
  KAFKA_SASL_MECHANISM: variable(
    'unset, or one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (with KAFKA_SECURITY_PROTOCOL SASL_SSL or SASL_PLAINTEXT)',
    z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).optional(),
  ),
  KAFKA_SASL_USERNAME: variable(
    'unset, or the SASL user name (an API key on Confluent Cloud)',
    z.string().min(1).max(1000).optional(),
  ),
  KAFKA_SASL_PASSWORD: variable(
    'unset, or the SASL password (an API secret on Confluent Cloud); or KAFKA_SASL_PASSWORD_FILE naming a file that holds it',
    z.string().min(1).max(10_000).optional(),
  ),
  KAFKA_SSL_CA_FILE: variable(
    'unset (the system trust store), or a readable PEM file of the CA certificates that sign the brokers',
    readableFile,
  ),
  KAFKA_SSL_CERT_FILE: variable(
    'unset, or a readable PEM file of the client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE)',
    readableFile,
  ),
  KAFKA_SSL_KEY_FILE: variable(
    'unset, or a readable PEM file of the client private key for mutual TLS (with KAFKA_SSL_CERT_FILE)',
    readableFile,
  ),
  FAULT_CRASH_AFTER_COMMIT: variable(
    'unset; for fault-injection tests only: an eventId after whose database commit the worker kills itself (SIGKILL) before committing the offset',
    z.string().min(1).optional(),
  ),
  LOG_LEVEL: variable(
    'one of fatal, error, warn, info, debug, trace, silent',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ),
  // Traces (OpenTelemetry's own variable names; src/tracing). Off unless an
  // exporter or an endpoint is named.
  OTEL_TRACES_EXPORTER: variable(
    'unset (traces off unless an OTLP endpoint is set), or otlp, console or none; otlp,console for both',
    z
      .string()
      .transform(commaList)
      .pipe(
        z
          .array(z.enum(['otlp', 'console', 'none']))
          .min(1)
          .refine((names) => !names.includes('none') || names.length === 1),
      )
      .optional(),
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: variable(
    'unset, or the http(s) base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (traces go to its /v1/traces); setting it turns traces on',
    z
      .string()
      .refine(urlWithProtocol(['http:', 'https:']))
      .optional(),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: variable(
    'unset, or the full http(s) URL traces are sent to, e.g. http://127.0.0.1:4318/v1/traces (taken as it is, before OTEL_EXPORTER_OTLP_ENDPOINT); setting it turns traces on',
    z
      .string()
      .refine(urlWithProtocol(['http:', 'https:']))
      .optional(),
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: variable(
    "http/protobuf, the one OTLP protocol the worker sends (grpc and http/json are not built in: point it at the receiver's HTTP port, 4318 by default)",
    z.enum(['http/protobuf']),
  ),
  OTEL_EXPORTER_OTLP_HEADERS: variable(
    'unset, or comma-separated name=value pairs sent with every export (values percent-encoded), e.g. x-api-key=abc123',
    z
      .string()
      .refine((value) => otlpHeaders(value) !== undefined)
      .optional(),
  ),
  OTEL_SERVICE_NAME: variable(
    'the service.name of every span, 1 to 255 characters without spaces',
    z.string().regex(/^\S{1,255}$/),
  ),
  OTEL_TRACES_SAMPLER: variable(
    'one of parentbased_always_on, parentbased_always_off, parentbased_traceidratio, always_on, always_off, traceidratio',
    z.enum([
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
      'always_on',
      'always_off',
      'traceidratio',
    ]),
  ),
  OTEL_TRACES_SAMPLER_ARG: variable(
    'unset (1.0), or the ratio of new traces a traceidratio sampler keeps, a decimal from 0 to 1 such as 0.25',
    z.string().regex(decimalFraction).transform(Number).optional(),
  ),
  OTEL_SDK_DISABLED: variable(
    'true (no traces, whatever else is set) or false',
    z.enum(['true', 'false']).transform((value) => value === 'true'),
  ),
} as const;

type Variables = typeof variables;
export type VariableName = keyof Variables;
export type Config = Readonly<{
  [K in VariableName]: z.output<Variables[K]['schema']>;
}>;

/**
 * Variables that hold secrets (or URLs that may carry a password): never echoed
 * in an error, and each may instead be read from the file `<NAME>_FILE` names,
 * as Docker and Kubernetes secrets are mounted.
 */
export const secretVariables = [
  'OPS_TOKEN',
  'KAFKA_SASL_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
  'OTEL_EXPORTER_OTLP_HEADERS',
] as const satisfies readonly VariableName[];
const isSecret = (name: string) => (secretVariables as readonly string[]).includes(name);

type Optional =
  | 'OPS_TOKEN'
  | 'FAULT_CRASH_AFTER_COMMIT'
  | 'DATABASE_WORKER_ROLE'
  | 'SCHEMA_REGISTRY_USERNAME'
  | 'SCHEMA_REGISTRY_PASSWORD'
  | 'SCHEMA_REGISTRY_CA_FILE'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
  | 'REDIS_CA_FILE'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_TRACES_SAMPLER_ARG';

/** The defaults point at the local services started by `npm run services:up`. */
export const defaults: Readonly<Record<Exclude<VariableName, Optional>, string>> = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/escrow',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TOPIC_PREFIX: '',
  CONSUMER_GROUP: 'escrow-worker',
  OPS_PORT: '8080',
  PLATFORM_FEE_RATE: '0.10',
  SCHEMA_AUTO_REGISTER: 'true',
  KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
  LOG_LEVEL: 'info',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_SERVICE_NAME: 'escrow-worker',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_SDK_DISABLED: 'false',
};

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  constructor(readonly problems: readonly string[]) {
    super(
      `escrow-worker cannot start: its configuration is invalid.\n` +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        `\nFix the environment variable(s) above, or unset them to use the local defaults.`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, { allowed, schema }] of Object.entries(variables)) {
    const given = givenValue(env, name, problems);
    if (given === null) continue;
    const raw = given ?? (defaults as Record<string, string | undefined>)[name];
    const result = schema.safeParse(raw);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const shown = isSecret(name) ? withoutSecrets(name, given) : JSON.stringify(given);
      problems.push(`${name}: given ${shown}; allowed: ${allowed}.`);
    }
  }
  if (problems.length === 0)
    problems.push(
      ...kafkaSecurityProblems(parsed as Config),
      ...registryAccessProblems(parsed as Config),
      ...redisSecurityProblems(parsed as Config),
      ...databaseUrlProblems((parsed as Config).DATABASE_URL),
      ...samplerProblems(parsed as Config),
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed) as Config;
}

/**
 * The variable's value as given: from the environment, or for a secret from
 * the file `<NAME>_FILE` names (its trailing newline dropped); undefined when
 * unset (an empty value counts as unset), null when a problem was recorded.
 */
function givenValue(
  env: NodeJS.ProcessEnv,
  name: string,
  problems: string[],
): string | undefined | null {
  // An empty optional variable (as `X=${X:-}` in a compose file gives) means unset.
  const direct = env[name] === '' && !(name in defaults) ? undefined : env[name];
  const path = isSecret(name) && env[`${name}_FILE`] !== '' ? env[`${name}_FILE`] : undefined;
  if (path === undefined) return direct;
  if (direct !== undefined) {
    problems.push(`${name} and ${name}_FILE are both set: set one of them.`);
    return null;
  }
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(
      `${name}_FILE: cannot read ${JSON.stringify(path)} (${code}); name a file the worker may read, holding the value of ${name}.`,
    );
    return null;
  }
}

/**
 * A secret's value as an error may show it: the URLs of DATABASE_URL and
 * REDIS_URL with any password masked (a part that is no URL is not shown),
 * every other secret hidden.
 */
function withoutSecrets(name: string, given: string | undefined): string {
  if (given === undefined) return 'nothing';
  if (name !== 'DATABASE_URL' && name !== 'REDIS_URL') return '(hidden)';
  const parts = commaList(given).map((part) => {
    try {
      const url = new URL(part);
      if (url.password !== '') url.password = '***';
      return url.host === '' ? '(not a URL)' : url.toString();
    } catch {
      return '(not a URL)';
    }
  });
  return JSON.stringify(parts.join(','));
}

/**
 * Every node of a Redlock quorum is reached the same way: all over TLS or none
 * (a lock granted by a majority that includes a plaintext node is only as safe
 * as that node's network), and a CA file only means something over TLS.
 */
function redisSecurityProblems(config: Config): string[] {
  const plain = config.REDIS_URL.filter((url) => url.startsWith('redis:'));
  const problems: string[] = [];
  if (plain.length > 0 && plain.length < config.REDIS_URL.length)
    problems.push(
      `REDIS_URL mixes redis:// and rediss:// nodes (${plain.length} of ${config.REDIS_URL.length} without TLS): use rediss:// for every node of the quorum.`,
    );
  else if (plain.length > 0 && config.REDIS_CA_FILE !== undefined)
    problems.push(
      'REDIS_CA_FILE is set but REDIS_URL uses redis:// (no TLS): use rediss:// URLs for the TLS port of every node, or unset REDIS_CA_FILE.',
    );
  return problems;
}

/** A ratio only a ratio sampler reads: given to another, it would silently keep every trace. */
function samplerProblems(config: Config): string[] {
  if (
    config.OTEL_TRACES_SAMPLER_ARG === undefined ||
    config.OTEL_TRACES_SAMPLER.endsWith('traceidratio')
  )
    return [];
  return [
    `OTEL_TRACES_SAMPLER_ARG is set but OTEL_TRACES_SAMPLER=${config.OTEL_TRACES_SAMPLER} takes no ratio: set OTEL_TRACES_SAMPLER to parentbased_traceidratio (or traceidratio), or unset OTEL_TRACES_SAMPLER_ARG.`,
  ];
}

/** Basic auth needs both halves; a CA file only means something over https. */
function registryAccessProblems(config: Config): string[] {
  const problems: string[] = [];
  if (
    (config.SCHEMA_REGISTRY_USERNAME === undefined) !==
    (config.SCHEMA_REGISTRY_PASSWORD === undefined)
  )
    problems.push(
      'SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together (basic auth): set both (the password may come from SCHEMA_REGISTRY_PASSWORD_FILE), or neither.',
    );
  if (
    config.SCHEMA_REGISTRY_CA_FILE !== undefined &&
    !config.SCHEMA_REGISTRY_URL.startsWith('https:')
  )
    problems.push(
      "SCHEMA_REGISTRY_CA_FILE is set but SCHEMA_REGISTRY_URL is not https://: use the registry's https:// URL, or unset SCHEMA_REGISTRY_CA_FILE.",
    );
  return problems;
}

/** The Kafka settings must agree before the first connection (a TLS-only client hangs on a SASL listener). */
function kafkaSecurityProblems(config: Config): string[] {
  const problems: string[] = [];
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const sasl = protocol.startsWith('SASL_');
  const tls = protocol.endsWith('SSL');
  const saslSet = (
    ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const
  ).filter((name) => config[name] !== undefined);
  if (sasl) {
    const missing = (
      ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const
    ).filter((name) => config[name] === undefined);
    if (missing.length > 0)
      problems.push(
        `KAFKA_SECURITY_PROTOCOL=${protocol} needs ${missing.join(', ')}: set them (the password may come from KAFKA_SASL_PASSWORD_FILE).`,
      );
  } else if (saslSet.length > 0) {
    problems.push(
      `${saslSet.join(', ')} set with KAFKA_SECURITY_PROTOCOL=${protocol}, which uses no SASL: set KAFKA_SECURITY_PROTOCOL to SASL_SSL (or SASL_PLAINTEXT), or unset them.`,
    );
  }
  const tlsSet = (
    ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const
  ).filter((name) => config[name] !== undefined);
  if (!tls && tlsSet.length > 0)
    problems.push(
      `${tlsSet.join(', ')} set with KAFKA_SECURITY_PROTOCOL=${protocol}, which uses no TLS: set KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL, or unset them.`,
    );
  if ((config.KAFKA_SSL_CERT_FILE === undefined) !== (config.KAFKA_SSL_KEY_FILE === undefined))
    problems.push(
      'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (mutual TLS): set both, or neither.',
    );
  return problems;
}

/**
 * The environment that configures another process exactly as `config` is:
 * every set variable written back in the form loadConfig reads (lists joined
 * with commas, flags as true/false); unset ones are left out.
 */
export function configEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(config)) {
    if (value === undefined) continue;
    env[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

/** Prefixes a topic name as every topic the worker reads or writes is prefixed. */
export function topicName(config: Pick<Config, 'TOPIC_PREFIX'>, topic: string): string {
  return `${config.TOPIC_PREFIX}${topic}`;
}
