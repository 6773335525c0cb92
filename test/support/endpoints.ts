/**
 * Where the integration tests find Kafka, the registry, Postgres and Redis, in
 * this order: the environment (all four of KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * DATABASE_URL, REDIS_URL), then testcontainers when a Docker engine answers,
 * then `npm run services:up` on this machine.
 */
import { getContainerRuntimeClient } from 'testcontainers';
import { defaults } from '../../src/config';

export interface Endpoints {
  KAFKA_BROKERS: string;
  SCHEMA_REGISTRY_URL: string;
  /** A URL whose database part the harness replaces with a template or per-file database. */
  DATABASE_URL: string;
  REDIS_URL: string;
}

export type EndpointSource = 'environment' | 'testcontainers' | 'services:up';

export const endpointNames = [
  'KAFKA_BROKERS',
  'SCHEMA_REGISTRY_URL',
  'DATABASE_URL',
  'REDIS_URL',
] as const;

export function endpointsFromEnvironment(env: NodeJS.ProcessEnv): Endpoints | undefined {
  const given = endpointNames.filter((name) => env[name]);
  if (given.length === 0) return undefined;
  if (given.length < endpointNames.length) {
    const missing = endpointNames.filter((name) => !env[name]);
    throw new Error(
      `The test harness was given ${given.join(', ')} but not ${missing.join(', ')}. ` +
        'Set all four to use your own services, or none to let the harness find or start them.',
    );
  }
  return {
    KAFKA_BROKERS: env.KAFKA_BROKERS!,
    SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL!,
    DATABASE_URL: env.DATABASE_URL!,
    REDIS_URL: env.REDIS_URL!,
  };
}

/** True when testcontainers finds a Docker (or compatible) engine that answers. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    const client = await getContainerRuntimeClient();
    return Boolean(client.info);
  } catch {
    return false;
  }
}

export const localEndpoints: Endpoints = {
  KAFKA_BROKERS: defaults.KAFKA_BROKERS,
  SCHEMA_REGISTRY_URL: defaults.SCHEMA_REGISTRY_URL,
  DATABASE_URL: defaults.DATABASE_URL,
  REDIS_URL: defaults.REDIS_URL,
};

/** The same URL pointing at another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
