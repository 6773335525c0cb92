/**
 * Where a benchmark runs: a fresh database `escrow_bench_<hex>` (migrated), a
 * topic prefix `bench-<hex>.` and consumer groups under it, and a scratch
 * database for the database floor; all removed at the end unless --keep.
 * The demo's environment helpers do the creating and removing; the bench
 * only chooses its own names, so a run never touches anyone else's data.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { type Config, configEnvironment, defaults, loadConfig } from '../config';
import {
  createEnvironment,
  type DemoEnvironment,
  deleteOwnKafkaResources,
  deleteOwnSubjects,
  dropOwnDatabase,
  planEnvironment,
} from '../demo/environment';
import { withTimeout } from '../demo/service-checks';

/** One worker process of the run: its configuration and the file of its stdout and stderr. */
export interface BenchWorker {
  readonly config: Config;
  readonly log: string;
}

export interface BenchEnvironment {
  readonly runId: string;
  /** The worker's configuration: the bench database, prefix, group and the first worker's operations port. */
  readonly config: Config;
  /**
   * The workers (`--instances`): the same configuration, one consumer group,
   * each its own operations port and log; the first one's is `config`.
   */
  readonly workers: readonly BenchWorker[];
  /** The bench database and prefix, in the shape the demo's helpers take. */
  readonly main: DemoEnvironment;
  /** The scratch database the database floor writes to. */
  readonly floor: DemoEnvironment;
  /** The Kafka floor's pass-through: its group and the topic it copies into. */
  readonly passThroughGroup: string;
  readonly passThroughTopic: string;
}

const databaseUrl = (name: string) => {
  const url = new URL(defaults.DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

/** `count` ports free at once (each held until all are chosen, so none is chosen twice). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Chooses names and free ports for `instances` workers; creates nothing yet.
 * `env` is the entry file's copy of the environment.
 */
export async function planBenchEnvironment(
  env: NodeJS.ProcessEnv,
  instances = 1,
): Promise<BenchEnvironment> {
  // The demo's planner picks the run id and a free operations port; the names are the bench's own.
  const planned = await planEnvironment(
    { ...env, DATABASE_URL: '', TOPIC_PREFIX: '' },
    {
      verbose: false,
    },
  );
  const { runId } = planned;
  const prefix = `bench-${runId}.`;
  const config = loadConfig({
    ...env,
    DATABASE_URL: databaseUrl(`escrow_bench_${runId}`),
    TOPIC_PREFIX: prefix,
    CONSUMER_GROUP: `${prefix}escrow-worker`,
    OPS_PORT: String(planned.config.OPS_PORT),
    // The worker under test logs warnings only: info lines per event would measure pino.
    LOG_LEVEL: env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'warn' : env.LOG_LEVEL,
  });
  const main: DemoEnvironment = {
    runId,
    config,
    ownDatabase: `escrow_bench_${runId}`,
    ownPrefix: true,
    outcomeGroup: `${prefix}bench-outcomes`,
  };
  const log = (instance: number) =>
    path.join(
      tmpdir(),
      instances === 1
        ? `escrow-bench-${runId}-worker.log`
        : `escrow-bench-${runId}-worker-${instance}.log`,
    );
  const morePorts = await freePorts(instances - 1);
  const workers: BenchWorker[] = [
    { config, log: log(1) },
    ...morePorts.map((port, index) => ({
      config: loadConfig({ ...configEnvironment(config), OPS_PORT: String(port) }),
      log: log(index + 2),
    })),
  ];
  const floorName = `escrow_bench_${runId}_floor`;
  const floor: DemoEnvironment = {
    ...main,
    config: loadConfig({ ...env, DATABASE_URL: databaseUrl(floorName), TOPIC_PREFIX: prefix }),
    ownDatabase: floorName,
  };
  return {
    runId,
    config,
    workers,
    main,
    floor,
    passThroughGroup: `${prefix}bench-kafka-floor`,
    passThroughTopic: `${prefix}bench.pass-through`,
  };
}

/** Creates and migrates both databases. */
export async function createBenchDatabases(environment: BenchEnvironment): Promise<void> {
  await createEnvironment(environment.main);
  await createEnvironment(environment.floor);
}

/**
 * Removes what the run created: consumer groups always; topics, schema
 * subjects, both databases and the worker's log unless kept (a failed
 * run keeps the log). Each part on its own and bounded,
 * so a lost broker does not leave the databases behind; returns what failed,
 * each with how to remove it by hand.
 */
export async function cleanUpBench(
  environment: BenchEnvironment,
  kafka: Kafka,
  options: { keep: boolean; keepLog: boolean },
): Promise<{ done: string[]; failed: string[] }> {
  const { keep } = options;
  const { main, floor, config } = environment;
  const done: string[] = [];
  const failed: string[] = [];
  const attempt = async (what: string, byHand: string, work: () => Promise<string>) => {
    try {
      done.push(await withTimeout(work(), 20_000, what));
    } catch (error) {
      failed.push(`${what} failed (${(error as Error).message}); ${byHand}`);
    }
  };
  await attempt(
    'deleting the consumer groups and topics',
    `delete the groups and topics starting with "${config.TOPIC_PREFIX}" by hand`,
    async () => {
      // The demo's helper knows the worker's and the outcome reader's groups; the floor's is extra.
      const admin = kafka.admin();
      await admin.connect();
      let extra = 0;
      try {
        const groups = (await admin.listGroups()).groups.map((group) => group.groupId);
        if (groups.includes(environment.passThroughGroup)) {
          await admin.deleteGroups([environment.passThroughGroup]);
          extra = 1;
        }
      } finally {
        await admin.disconnect();
      }
      const removed = await deleteOwnKafkaResources(main, kafka, { topics: !keep });
      const groups = `deleted ${removed.groups + extra} consumer groups`;
      return keep
        ? `${groups}; kept the topics under "${config.TOPIC_PREFIX}"`
        : `${groups} and ${removed.topics} topics under "${config.TOPIC_PREFIX}"`;
    },
  );
  if (keep) {
    done.push(
      ...environment.workers.map((worker) => `kept the worker's log ${worker.log}`),
      `kept database ${main.ownDatabase} (DATABASE_URL=${config.DATABASE_URL} npm run reconcile)`,
      `kept database ${floor.ownDatabase} (the database floor's rows)`,
    );
    return { done, failed };
  }
  await attempt(
    'deleting the schema subjects',
    `delete the subjects starting with "${config.TOPIC_PREFIX}" from ${config.SCHEMA_REGISTRY_URL}`,
    async () => `deleted ${await deleteOwnSubjects(main)} schema subjects`,
  );
  for (const worker of environment.workers) {
    if (options.keepLog) done.push(`kept the worker's log ${worker.log}`);
    else rmSync(worker.log, { force: true });
  }
  for (const database of [main, floor]) {
    await attempt(
      `dropping database ${database.ownDatabase}`,
      `drop it with: psql ${databaseUrl('postgres')} -c 'DROP DATABASE "${database.ownDatabase}"'`,
      async () => {
        await dropOwnDatabase(database);
        return `dropped database ${database.ownDatabase}`;
      },
    );
  }
  return { done, failed };
}
