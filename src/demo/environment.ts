/**
 * Where the demo runs, and cleaning up after it. With DATABASE_URL and
 * TOPIC_PREFIX set it uses them (migrating the database first) and never
 * drops them; unset, it makes a fresh database and a topic prefix of its own,
 * so a demo never mixes with other data, and removes them at the end unless
 * told to keep them. Its consumer groups are always its own, so it never
 * takes partitions from a running worker.
 */
import { deleteSubjectsWithPrefix } from '../codec/registry-subjects';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { type Config, defaults, loadConfig } from '../config';
import { createKnex } from '../db/knex';
import { migrateToLatest } from '../db/migrate';

export interface DemoEnvironment {
  readonly runId: string;
  readonly config: Config;
  /** The database the demo creates for itself, or null when DATABASE_URL named one. */
  readonly ownDatabase: string | null;
  /** True when the topic prefix is the demo's own: its topics and schema subjects go at the end. */
  readonly ownPrefix: boolean;
  /** The group the demo's outcome reader uses; the worker's is config.CONSUMER_GROUP. */
  readonly outcomeGroup: string;
}

/** An empty value counts as unset: `DATABASE_URL= npm run demo` must not mean "no database". */
const given = (value: string | undefined) =>
  value === undefined || value === '' ? undefined : value;

/** A TCP port nobody listens on now, chosen by the kernel. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const serverDatabase = (name: string) => {
  const url = new URL(defaults.DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

/** Decides names and configuration; creates nothing yet, so cleanup knows what may exist. */
export async function planEnvironment(
  env: NodeJS.ProcessEnv,
  options: { verbose: boolean },
): Promise<DemoEnvironment> {
  const runId = randomBytes(3).toString('hex');
  const databaseUrl = given(env.DATABASE_URL);
  const topicPrefix = given(env.TOPIC_PREFIX);
  const ownDatabase = databaseUrl === undefined ? `escrow_demo_${runId}` : null;
  const prefix = topicPrefix ?? `demo-${runId}.`;
  const config = loadConfig({
    ...env,
    DATABASE_URL: databaseUrl ?? serverDatabase(ownDatabase!),
    TOPIC_PREFIX: prefix,
    // Under the prefix, so whoever cleans up a prefix's groups finds these too.
    CONSUMER_GROUP: `${prefix}escrow-demo-${runId}`,
    OPS_PORT: given(env.OPS_PORT) ?? String(await freePort()),
    // Quiet by default: the story is the output. A step that fails says to rerun with --verbose.
    LOG_LEVEL: options.verbose ? (given(env.LOG_LEVEL) ?? 'info') : 'silent',
  });
  return {
    runId,
    config,
    ownDatabase,
    ownPrefix: topicPrefix === undefined,
    outcomeGroup: `${prefix}escrow-demo-${runId}-outcomes`,
  };
}

async function withServer<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    connectionString: serverDatabase('postgres'),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `Postgres at ${new URL(defaults.DATABASE_URL).host} is not reachable (${(error as Error).message}). ` +
        'Start the local services with `npm run services:up`, or set DATABASE_URL to a database of your own.',
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the demo's own database when it has one, then migrates whichever database it uses. */
export async function createEnvironment(environment: DemoEnvironment): Promise<string[]> {
  if (environment.ownDatabase !== null) {
    const name = environment.ownDatabase;
    await withServer((client) => client.query(`CREATE DATABASE "${name}"`));
  }
  const db = createKnex(environment.config, { poolMax: 1 });
  try {
    return (await migrateToLatest(db)).applied;
  } catch (error) {
    throw new Error(
      `Migrating ${redacted(environment.config.DATABASE_URL)} failed: ${(error as Error).message}. ` +
        'Check that DATABASE_URL names a reachable Postgres database you may create tables in.',
      { cause: error },
    );
  } finally {
    await db.destroy();
  }
}

/** Drops the demo's own database (if it was created). Never a database the demo was given. */
export async function dropOwnDatabase(environment: DemoEnvironment): Promise<boolean> {
  const name = environment.ownDatabase;
  if (name === null) return false;
  // FORCE: a pool connection still closing must not keep the database alive.
  await withServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  return true;
}

/** Deletes the registry subjects under the demo's own prefix; soft first, as the API requires. */
export async function deleteOwnSubjects(environment: DemoEnvironment): Promise<number> {
  if (!environment.ownPrefix) return 0;
  return deleteSubjectsWithPrefix(
    environment.config.SCHEMA_REGISTRY_URL,
    environment.config.TOPIC_PREFIX,
  );
}

/**
 * Deletes the demo's consumer groups (always its own) and, when asked and
 * under its own prefix only, its topics. Called after every consumer left.
 */
export async function deleteOwnKafkaResources(
  environment: DemoEnvironment,
  kafka: Kafka,
  options: { topics: boolean },
): Promise<{ topics: number; groups: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = [environment.config.CONSUMER_GROUP, environment.outcomeGroup];
    const existing = (await admin.listGroups()).groups.map((group) => group.groupId);
    const ours = groups.filter((group) => existing.includes(group));
    if (ours.length > 0) await admin.deleteGroups(ours);
    if (!environment.ownPrefix || !options.topics) return { topics: 0, groups: ours.length };
    const topics = (await admin.listTopics()).filter((topic) =>
      topic.startsWith(environment.config.TOPIC_PREFIX),
    );
    if (topics.length > 0) await admin.deleteTopics({ topics });
    return { topics: topics.length, groups: ours.length };
  } finally {
    await admin.disconnect();
  }
}

/** A database URL without its password, for printing. */
export function redacted(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
