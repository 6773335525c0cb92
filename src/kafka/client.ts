/**
 * Builds the KafkaJS client from configuration. KafkaJS has had no release
 * since 2023, so the rest of the worker reaches Kafka only through the small
 * port in this folder; a KafkaJS-compatible client can replace it here.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../config';

export function createKafka(config: Pick<Config, 'KAFKA_BROKERS'>, clientId = 'escrow-worker'): Kafka {
  return new Kafka({
    clientId,
    brokers: [...config.KAFKA_BROKERS],
    logLevel: logLevel.WARN,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}
