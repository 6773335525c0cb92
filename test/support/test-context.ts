/**
 * `useTestContext()` gives an integration test file its own database (cloned
 * from the run's migrated template), its own topic prefix and consumer group,
 * and a Config pointing at both; afterAll drops and deletes them again.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { type Config, loadConfig } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { createDatabase, dropDatabases } from './databases';
import { withDatabase } from './endpoints';
import { currentTestRun } from './run';

export interface TestContext {
  readonly config: Config;
  readonly db: Knex;
  readonly databaseName: string;
  /** Runs before the database is dropped (jest runs afterAll hooks in the order they were declared). */
  beforeTeardown(work: () => Promise<void>): void;
}

async function deleteTopicsWithPrefix(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

export function useTestContext(overrides: Partial<Record<string, string>> = {}): TestContext {
  const run = currentTestRun();
  const fileId = randomBytes(3).toString('hex');
  const databaseName = `${run.databasePrefix}${fileId}`;
  const serverUrl = process.env.DATABASE_URL!;
  let state: { config: Config; db: Knex } | undefined;
  const teardowns: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await createDatabase(serverUrl, databaseName, run.templateDatabase);
    const prefix = `${run.topicPrefix}${fileId}-`;
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: withDatabase(serverUrl, databaseName),
      TOPIC_PREFIX: prefix,
      CONSUMER_GROUP: `${prefix}escrow-worker`,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      ...overrides,
    });
    state = { config, db: createKnex(config, { poolMax: 5 }) };
  });

  afterAll(async () => {
    for (const work of teardowns.reverse()) await work();
    if (!state) return;
    await state.db.destroy();
    await dropDatabases(serverUrl, databaseName);
    await deleteTopicsWithPrefix(state.config.KAFKA_BROKERS, state.config.TOPIC_PREFIX);
  });

  const current = () => {
    if (!state) throw new Error('The test context is ready only inside tests (after beforeAll).');
    return state;
  };
  return {
    get config() {
      return current().config;
    },
    get db() {
      return current().db;
    },
    databaseName,
    beforeTeardown(work) {
      teardowns.push(work);
    },
  };
}
