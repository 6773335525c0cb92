/**
 * The Docker path of the harness: Apache Kafka (KRaft), a Confluent schema
 * registry, Postgres 16 and Redis 7 through testcontainers. Used only when a
 * Docker engine answers; this project's own machines have none, so this path is
 * exercised by users with Docker (see README, "Tests").
 */
import { KafkaContainer } from '@testcontainers/kafka';
import { GenericContainer, Network, Wait, type StartedTestContainer } from 'testcontainers';
import type { Endpoints } from './endpoints';

export const images = {
  // Confluent Platform 8.0 is Kafka 4.0 (KRaft only; testcontainers enables it for >= 8).
  kafka: 'confluentinc/cp-kafka:8.0.0',
  registry: 'confluentinc/cp-schema-registry:8.0.0',
  postgres: 'postgres:16-alpine',
  redis: 'redis:7-alpine',
} as const;

export interface RunningContainers {
  endpoints: Endpoints;
  stop(): Promise<void>;
}

/** Kafka plus a real Confluent registry on one network; the registry stores schemas in Kafka. */
export async function startKafkaAndRegistry(): Promise<{
  brokers: string;
  registryUrl: string;
  stop(): Promise<void>;
}> {
  const network = await new Network().start();
  const kafka = await new KafkaContainer(images.kafka)
    .withKraft()
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .start();
  const registry = await new GenericContainer(images.registry)
    .withNetwork(network)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
    })
    .withExposedPorts(8081)
    .withWaitStrategy(Wait.forHttp('/subjects', 8081).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
  return {
    brokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
    async stop() {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}

export async function startContainers(): Promise<RunningContainers> {
  const started: StartedTestContainer[] = [];
  const kafkaAndRegistry = await startKafkaAndRegistry();
  const postgres = await new GenericContainer(images.postgres)
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  started.push(postgres);
  const redis = await new GenericContainer(images.redis)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  started.push(redis);
  return {
    endpoints: {
      KAFKA_BROKERS: kafkaAndRegistry.brokers,
      SCHEMA_REGISTRY_URL: kafkaAndRegistry.registryUrl,
      DATABASE_URL: `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
      REDIS_URL: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    },
    async stop() {
      await Promise.all(started.map((container) => container.stop()));
      await kafkaAndRegistry.stop();
    },
  };
}
