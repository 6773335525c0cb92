/**
 * Builds the KafkaJS client from configuration. KafkaJS has had no release
 * since 2023, so the rest of the worker reaches Kafka only through the small
 * port in this folder; a KafkaJS-compatible client can replace it here.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
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

export function createKafka(
  config: Pick<Config, 'KAFKA_BROKERS' | 'LOG_LEVEL'>,
  clientId = 'escrow-worker',
): Kafka {
  return new Kafka({
    clientId,
    brokers: [...config.KAFKA_BROKERS],
    logLevel: kafkaLogLevels[config.LOG_LEVEL],
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}

/**
 * The producer every outcome and dead letter goes through: idempotent, one
 * request in flight (so retries cannot reorder), and murmur2 partitioning as
 * Java clients use, so one orderId lands on one partition whoever produced it.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
