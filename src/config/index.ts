/**
 * The worker's configuration: every environment variable of CONTRACT.md, parsed
 * once at start with zod and frozen. Nothing else in the worker reads
 * `process.env`. Defaults equal what `npm run services:up` starts, so a local
 * worker needs no configuration at all.
 */
import { z } from 'zod';

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

const urlWithProtocol = (protocols: string[]) => (value: string) => {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

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
    'a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/escrow',
    z.string().refine(urlWithProtocol(['postgres:', 'postgresql:'])),
  ),
  REDIS_URL: variable(
    'one redis:// URL, or several comma-separated for a Redlock quorum (use an odd number)',
    z
      .string()
      .transform(commaList)
      .pipe(z.array(z.string().refine(urlWithProtocol(['redis:', 'rediss:']))).min(1)),
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
  FAULT_CRASH_AFTER_COMMIT: variable(
    'unset; for fault-injection tests only: an eventId after whose database commit the worker kills itself (SIGKILL) before committing the offset',
    z.string().min(1).optional(),
  ),
  LOG_LEVEL: variable(
    'one of fatal, error, warn, info, debug, trace, silent',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ),
} as const;

type Variables = typeof variables;
export type VariableName = keyof Variables;
export type Config = Readonly<{
  [K in VariableName]: z.output<Variables[K]['schema']>;
}>;

/** The defaults point at the local services started by `npm run services:up`. */
export const defaults: Readonly<
  Record<Exclude<VariableName, 'OPS_TOKEN' | 'FAULT_CRASH_AFTER_COMMIT'>, string>
> = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/escrow',
  REDIS_URL: 'redis://127.0.0.1:6379',
  TOPIC_PREFIX: '',
  CONSUMER_GROUP: 'escrow-worker',
  OPS_PORT: '8080',
  PLATFORM_FEE_RATE: '0.10',
  LOG_LEVEL: 'info',
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
    // An empty OPS_TOKEN (as `OPS_TOKEN=${OPS_TOKEN:-}` in compose files gives) means unset.
    const given = name === 'OPS_TOKEN' && env[name] === '' ? undefined : env[name];
    const raw = given ?? (defaults as Record<string, string | undefined>)[name];
    const result = schema.safeParse(raw);
    if (result.success) {
      parsed[name] = result.data;
    } else {
      const shown = name === 'OPS_TOKEN' ? '(hidden)' : JSON.stringify(given);
      problems.push(`${name}: given ${shown}; allowed: ${allowed}.`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed) as Config;
}

/** Prefixes a topic name as every topic the worker reads or writes is prefixed. */
export function topicName(config: Pick<Config, 'TOPIC_PREFIX'>, topic: string): string {
  return `${config.TOPIC_PREFIX}${topic}`;
}
