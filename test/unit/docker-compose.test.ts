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

/**
 * Resolves `${NAME:-default}` the way compose does when NAME is unset, and the
 * required `${NAME}` / `${NAME:?message}` as compose does once NAME is set, to
 * `<NAME>` (a stand-in password).
 */
const withDefaults = (value: string | number) =>
  String(value)
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{([A-Z_]+)(:\?[^}]*)?\}/g, (_, name: string) => `pw-${name.toLowerCase()}`);
const resolvedEnvironment = (name: string) =>
  Object.fromEntries(
    Object.entries(service(name).environment!).map(([k, v]) => [k, withDefaults(v)]),
  );

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

  // The worker connects as its own role, migrate as the owner that grants it its rights.
  const database = new URL(config.DATABASE_URL);
  expect(database.hostname).toBe('postgres');
  expect(database.pathname).toBe(`/${service('postgres').environment!.POSTGRES_DB}`);
  expect(database.username).toBe('escrow_worker');
  expect(database.password).toBe('pw-escrow_worker_password');
  const migrate = resolvedEnvironment('migrate');
  const owner = new URL(String(migrate.DATABASE_URL));
  expect({ user: owner.username, password: owner.password, host: owner.host }).toEqual({
    user: 'escrow_owner',
    password: 'pw-escrow_owner_password',
    host: database.host,
  });
  expect(migrate.DATABASE_WORKER_ROLE).toBe(database.username);
  expect(config.REDIS_URL).toEqual(['redis://:pw-redis_password@redis:6379']);
  expect(service('worker').ports).toEqual([`127.0.0.1:${config.OPS_PORT}:${config.OPS_PORT}`]);
});

test('from the host, the published ports equal the worker defaults, on 127.0.0.1 only', () => {
  const local = loadConfig({});
  const loopback = (port: string | number, inside: number) => [`127.0.0.1:${port}:${inside}`];
  expect(service('kafka').ports).toEqual(loopback(local.KAFKA_BROKERS[0]!.split(':')[1]!, 9092));
  expect(String(service('kafka').environment!.KAFKA_ADVERTISED_LISTENERS)).toContain(
    `EXTERNAL://${local.KAFKA_BROKERS[0]}`,
  );
  expect(service('schema-registry').ports).toEqual(
    loopback(new URL(local.SCHEMA_REGISTRY_URL).port, 8081),
  );
  expect(service('postgres').ports).toEqual(loopback(new URL(local.DATABASE_URL).port, 5432));
  expect(service('redis').ports).toEqual(loopback(new URL(local.REDIS_URL[0]!).port, 6379));
  // Every published port of every service, whatever is added later.
  const published = Object.entries(services).flatMap(([name, { ports }]) =>
    (ports ?? []).map((port) => `${name} ${port}`),
  );
  expect(published.filter((entry) => !/ 127\.0\.0\.1:\d+:\d+$/.test(entry))).toEqual([]);
});

test('Postgres and Redis need passwords, which compose refuses to start without', () => {
  const postgres = service('postgres').environment!;
  expect(postgres).not.toHaveProperty('POSTGRES_HOST_AUTH_METHOD');
  for (const name of ['POSTGRES_PASSWORD', 'ESCROW_OWNER_PASSWORD', 'ESCROW_WORKER_PASSWORD'])
    expect(String(postgres[name])).toMatch(new RegExp(`^\\$\\{${name}:\\?.+\\}$`));
  expect(String(postgres.POSTGRES_INITDB_ARGS)).toContain('--auth-host=scram-sha-256');
  const redis = service('redis');
  expect(String(redis.environment!.REDISCLI_AUTH)).toMatch(/^\$\{REDIS_PASSWORD:\?.+\}$/);
  expect(redis.command!.join(' ')).toContain('--requirepass "$$REDISCLI_AUTH"');
});

test("Postgres is healthy only when it answers over TCP (not while the image's init server runs)", () => {
  expect(service('postgres').healthcheck!.test.join(' ')).toContain('pg_isready -h 127.0.0.1');
});

test('the roles are created on a fresh volume by the init script, with the passwords from the environment', () => {
  const mount = (service('postgres') as { volumes?: string[] }).volumes!.find((volume) =>
    volume.includes('docker-entrypoint-initdb.d'),
  )!;
  const script = readFileSync(path.join(root, mount.split(':')[0]!), 'utf8');
  expect(script).toContain('CREATE ROLE escrow_owner LOGIN PASSWORD');
  expect(script).toContain('CREATE ROLE escrow_worker LOGIN PASSWORD');
  expect(script).toContain('ALTER DATABASE escrow OWNER TO escrow_owner');
  expect(script).toContain('"$ESCROW_WORKER_PASSWORD"');
});

test("Kafka's data is on a volume, formatted once with a fixed cluster id", () => {
  const kafka = service('kafka') as ComposeService & { volumes?: string[] };
  const dir = String(kafka.environment!.KAFKA_LOG_DIRS);
  expect(kafka.volumes).toContain(`kafka-data:${dir}`);
  expect(String(kafka.environment!.CLUSTER_ID)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(Object.keys((compose as { volumes?: object }).volumes ?? {})).toEqual(
    expect.arrayContaining(['kafka-data', 'postgres-data']),
  );
});

test('one image for the worker and migrate, a graceful stop, and a .dockerignore without build output or logs', () => {
  const worker = service('worker') as ComposeService & { stop_grace_period?: string };
  expect(worker.image).toBe(service('migrate').image);
  expect(worker.image).toMatch(/^escrow-worker:/);
  expect(Number.parseInt(worker.stop_grace_period ?? '0', 10)).toBeGreaterThanOrEqual(30);
  const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
  expect(ignored).toEqual(
    expect.arrayContaining([
      'infra/*/target',
      '.services',
      '.tools',
      '*.log',
      '.env',
      'node_modules',
    ]),
  );
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
