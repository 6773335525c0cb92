/**
 * Builds the KafkaJS client from configuration. KafkaJS has had no release
 * since 2023, so the rest of the worker reaches Kafka only through the small
 * port in this folder; a KafkaJS-compatible client can replace it here.
 */
import './kafkajs-patches';
import { readFileSync } from 'node:fs';
import {
  Kafka,
  type KafkaConfig,
  type logCreator,
  logLevel,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from '../logging/logger';
import type { Config } from '../config';
import { createPartitioner } from './partitioner';

const kafkaLogLevels: Record<Config['LOG_LEVEL'], logLevel> = {
  silent: logLevel.NOTHING,
  fatal: logLevel.ERROR,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.WARN, // KafkaJS logs every connection at INFO; keep the worker's info log readable
  debug: logLevel.INFO,
  trace: logLevel.DEBUG,
};

/**
 * KafkaJS's own log lines go through the worker's logger, as structured
 * fields. The broker's answer to creating topics that exist is logged by
 * KafkaJS as an error on every start; it is expected (createTopics itself
 * throws on a real failure), so it is kept at debug.
 */
function logCreatorFor(log: Logger): logCreator {
  const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
    [logLevel.ERROR]: 'error',
    [logLevel.WARN]: 'warn',
    [logLevel.INFO]: 'info',
    [logLevel.DEBUG]: 'debug',
  };
  return () =>
    ({ level, log: { message, ...fields } }) => {
      const expected =
        message.startsWith('Response CreateTopics') && fields.error === 'Topic creation errors';
      log[expected ? 'debug' : (levels[level] ?? 'info')](
        { component: 'kafkajs', ...fields },
        message,
      );
    };
}

export type KafkaSettings = Pick<
  Config,
  | 'KAFKA_BROKERS'
  | 'LOG_LEVEL'
  | 'KAFKA_SECURITY_PROTOCOL'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
>;

const saslMechanisms = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
} as const;

/**
 * TLS and SASL as KAFKA_SECURITY_PROTOCOL says (loadConfig has checked that the
 * settings agree). The CA, certificate and key files are read here, once per
 * client; with no CA file Node's own trust store applies, as managed clusters
 * with public certificates need.
 */
export function kafkaSecurity(config: KafkaSettings): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const read = (path: string | undefined) =>
      path === undefined ? undefined : readFileSync(path);
    const ca = read(config.KAFKA_SSL_CA_FILE);
    const cert = read(config.KAFKA_SSL_CERT_FILE);
    const key = read(config.KAFKA_SSL_KEY_FILE);
    security.ssl =
      ca === undefined && cert === undefined
        ? true
        : {
            ...(ca ? { ca: [ca] } : {}),
            ...(cert ? { cert } : {}),
            ...(key ? { key } : {}),
          };
  }
  if (protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT') {
    security.sasl = {
      mechanism: saslMechanisms[config.KAFKA_SASL_MECHANISM!],
      username: config.KAFKA_SASL_USERNAME!,
      password: config.KAFKA_SASL_PASSWORD!,
    } as SASLOptions;
  }
  return security;
}

export function createKafka(
  config: KafkaSettings,
  clientId = 'escrow-worker',
  log?: Logger,
): Kafka {
  return new Kafka({
    clientId,
    brokers: [...config.KAFKA_BROKERS],
    ...kafkaSecurity(config),
    logLevel: kafkaLogLevels[config.LOG_LEVEL],
    ...(log ? { logCreator: logCreatorFor(log) } : {}),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}

/**
 * The producer every outcome and dead letter goes through: idempotent, one
 * request in flight (so retries cannot reorder), retrying until the broker
 * answers, and murmur2 partitioning as Java clients use, so one orderId lands
 * on one partition whoever produced it (KafkaJS's DefaultPartitioner's
 * choices, without its per-message allocations: src/kafka/partitioner.ts).
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner,
    // An idempotent producer keeps its guarantees only if it retries until the
    // broker answers; callers stop it by disconnecting.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}
