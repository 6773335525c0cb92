/**
 * Builds the KafkaJS client from configuration. KafkaJS has had no release
 * since 2023, so the rest of the worker reaches Kafka only through the small
 * port in this folder; a KafkaJS-compatible client can replace it here.
 */
import { Kafka, type logCreator, logLevel, Partitioners, type Producer } from 'kafkajs';
import type { Logger } from '../logging/logger';
import type { Config } from '../config';

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

export function createKafka(
  config: Pick<Config, 'KAFKA_BROKERS' | 'LOG_LEVEL'>,
  clientId = 'escrow-worker',
  log?: Logger,
): Kafka {
  return new Kafka({
    clientId,
    brokers: [...config.KAFKA_BROKERS],
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
 * answers, and murmur2 partitioning as
 * Java clients use, so one orderId lands on one partition whoever produced it.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    // An idempotent producer keeps its guarantees only if it retries until the
    // broker answers; callers stop it by disconnecting.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}
