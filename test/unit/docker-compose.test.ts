/**
 * Docker cannot run on this project's machines, so the compose file is checked
 * by reading it: the services and official images, a healthcheck on each, the
 * start order (the worker after its migrations), and the worker's environment
 * against the worker's own configuration schema.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig, variables } from '../../src/config';
import { KAFKA_VERSION } from '../../infra/services/kafka';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  restart?: string;
}

const root = path.resolve(__dirname, '..', '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const service = (name: string): ComposeService => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** Resolves `${NAME:-default}` the way compose does when NAME is unset. */
const withDefaults = (value: string | number) =>
  String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

test('it runs Apache Kafka, a Confluent schema registry, Postgres 16, Redis 7 and the worker', () => {
  expect(Object.keys(services).sort()).toEqual(
    ['kafka', 'migrate', 'postgres', 'redis', 'schema-registry', 'worker'].sort(),
  );
  // The same Kafka as services:up runs locally, and a registry of the matching Confluent line.
  expect(service('kafka').image).toBe(`apache/kafka:${KAFKA_VERSION}`);
  expect(service('schema-registry').image).toMatch(
    /^confluentinc\/cp-schema-registry:8\.\d+\.\d+$/,
  );
  expect(service('postgres').image).toMatch(/^postgres:16(\.|$)/);
  expect(service('redis').image).toMatch(/^redis:7(\.|$)/);
  expect(service('worker').build).toBe('.');
  expect(service('migrate').build).toBe('.');
});

test('Kafka runs one KRaft node as broker and controller', () => {
  const env = service('kafka').environment!;
  expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  expect(String(env.KAFKA_CONTROLLER_QUORUM_VOTERS)).toMatch(/^1@kafka:\d+$/);
  expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
});

test('every long-running service has a healthcheck and the worker waits for them and for migrations', () => {
  const withoutHealthcheck = ['kafka', 'schema-registry', 'postgres', 'redis', 'worker'].filter(
    (name) => (service(name).healthcheck?.test ?? []).length < 2,
  );
  expect(withoutHealthcheck).toEqual([]);
  expect(service('worker').depends_on).toEqual({
    migrate: { condition: 'service_completed_successfully' },
    kafka: { condition: 'service_healthy' },
    'schema-registry': { condition: 'service_healthy' },
    redis: { condition: 'service_healthy' },
  });
  expect(service('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  expect(service('migrate').command).toEqual(['node', 'dist/src/db/migrate-cli.js']);
});

test("the worker's environment names every configuration variable and each value is valid", () => {
  const env = service('worker').environment!;
  // Fault injection is for tests only and has no place in a deployment.
  const contract = Object.keys(variables)
    .filter((name) => name !== 'FAULT_CRASH_AFTER_COMMIT')
    .sort();
  expect(Object.keys(env).sort()).toEqual(contract);
  const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, withDefaults(v)]));
  const config = loadConfig(resolved);
  expect(config.OPS_TOKEN).toBeUndefined();
  expect(config.PLATFORM_FEE_RATE).toBe('0.10');
});

test("the worker's addresses point at the services of this file", () => {
  const config = loadConfig(
    Object.fromEntries(
      Object.entries(service('worker').environment!).map(([k, v]) => [k, withDefaults(v)]),
    ),
  );
  const kafkaEnv = service('kafka').environment!;
  const internal = /INTERNAL:\/\/([^,]+)/.exec(String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS))?.[1];
  expect(config.KAFKA_BROKERS).toEqual([internal]);

  const registry = service('schema-registry').environment!;
  const registryPort = /:(\d+)$/.exec(String(registry.SCHEMA_REGISTRY_LISTENERS))?.[1];
  expect(config.SCHEMA_REGISTRY_URL).toBe(`http://schema-registry:${registryPort}`);
  expect(String(registry.SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS)).toBe(
    `PLAINTEXT://${internal}`,
  );

  const database = new URL(config.DATABASE_URL);
  expect(database.hostname).toBe('postgres');
  expect(database.pathname).toBe(`/${service('postgres').environment!.POSTGRES_DB}`);
  expect(database.username).toBe(service('postgres').environment!.POSTGRES_USER);
  expect(service('migrate').environment!.DATABASE_URL).toBe(config.DATABASE_URL);
  expect(config.REDIS_URL).toEqual(['redis://redis:6379']);
  expect(service('worker').ports).toEqual([`${config.OPS_PORT}:${config.OPS_PORT}`]);
});

test('from the host, the published ports equal the worker defaults', () => {
  const local = loadConfig({});
  expect(service('kafka').ports).toEqual([`${local.KAFKA_BROKERS[0]!.split(':')[1]}:9092`]);
  expect(String(service('kafka').environment!.KAFKA_ADVERTISED_LISTENERS)).toContain(
    `EXTERNAL://${local.KAFKA_BROKERS[0]}`,
  );
  expect(service('schema-registry').ports).toEqual([
    `${new URL(local.SCHEMA_REGISTRY_URL).port}:8081`,
  ]);
  expect(service('postgres').ports).toEqual([`${new URL(local.DATABASE_URL).port}:5432`]);
  expect(service('redis').ports).toEqual([`${new URL(local.REDIS_URL[0]!).port}:6379`]);
});

test('the image is multi-stage on Node 24 slim on Debian trixie and runs as a non-root user', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
  expect(bases.length).toBeGreaterThanOrEqual(2);
  for (const base of bases) expect(base).toMatch(/^node:24(\.\d+)*-trixie-slim$/);
  expect(dockerfile).toMatch(/^FROM node:\S+ AS build$/m);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^CMD \["node", .*"dist\/src\/main.js"\]$/m);
});

test('the worker is restarted when it exits with an error (its consumer stopped for good)', () => {
  expect(service('worker').restart).toBe('on-failure');
});

test('Node 24 everywhere (engines also accepts 22, on which the suite passes): engines, .nvmrc, the image', () => {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  expect(manifest.engines.node).toBe('^22.22.0 || ^24.11.0');
  expect(readFileSync(path.join(root, '.nvmrc'), 'utf8').trim()).toBe('24');
});

test("services:up fetches the Kafka version its code names (the pom's kafka.version)", () => {
  const pom = readFileSync(path.join(root, 'infra', 'kafka', 'pom.xml'), 'utf8');
  expect(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(KAFKA_VERSION);
  expect(KAFKA_VERSION).toMatch(/^4\.\d+\.\d+$/);
});
