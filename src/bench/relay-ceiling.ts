/**
 * `npm run bench:relay -- --rows N`: the outbox relay's ceiling, measured
 * alone. How many outbox rows per second one OutboxRelay publishes to Kafka
 * (acks from all replicas) and marks published, and the CPU each row costs
 * the relay's process, the broker and Postgres, with no consumer, pipeline or
 * event producer competing for the machine. A worker publishes no faster than
 * its relay, so docs/scaling.md reads the worker's throughput against this.
 *
 * The rows are the worker's own: the bench's planned stream (generator.ts)
 * and the settlements answering its requests, decided by the worker's plan
 * (db-floor-model.ts) into escrow.events.v1 notifications and
 * escrow.payouts.v1 / escrow.refunds.v1 requests, and inserted in order with
 * the pipeline's outbox statement, all before the clock starts. The clock runs
 * from relay.start() to the callback after the last row is marked published.
 * The relay's CPU is this process's (process.cpuUsage), which does nothing
 * else meanwhile; the broker's and Postgres's come from /proc (cpu-usage.ts).
 *
 * It runs on a database `escrow_bench_<hex>` (migrated) and a topic prefix
 * `bench-<hex>.` of its own (environment.ts), removed at the end with the
 * schema subjects unless --keep. Progress and a summary go to stderr, one JSON
 * line to stdout. Exit 0 when every row reached Kafka, 1 otherwise, 2 on bad flags.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { RegistryCodec } from '../codec/registry-codec';
import { outboundTopics } from '../codec/schemas';
import type { Config } from '../config';
import { createKnex } from '../db/knex';
import * as scratch from '../demo/environment';
import { checkServices } from '../demo/service-checks';
import { createKafka, createProducer } from '../kafka/client';
import { OutboxRelay } from '../outbox/relay';
import { insertOutboxSql, outboxRecordset, type OutboxRow } from '../pipeline/outbox';
import { cpuSnapshot, cpuUsageBetween } from './cpu-usage';
import { FloorModel } from './db-floor-model';
import { planBenchEnvironment } from './environment';
import { generatePlan } from './generator';
import { collectGarbage, postgresOwners, quietMachine, runFromCommandLine } from './measure-alone';

const usage = `Usage: npm run bench:relay -- [--rows N] [--batch-size N] [--seed S] [--keep]

Fills a scratch outbox with N rows as the worker writes them, starts one outbox relay
against Kafka and times it until every row is published: rows/s and CPU per 1,000 rows.

  --rows N        outbox rows to publish (default 50000)
  --batch-size N  rows the relay reads and sends at a time (default: the relay's own)
  --seed S        the bench generator's seed (default 1)
  --keep          keep the database, topics and schema subjects afterwards`;

interface Options {
  rows: number;
  batchSize: number | undefined;
  seed: string;
  keep: boolean;
}

function parseOptions(args: readonly string[]): Options | string {
  const options: Options = { rows: 50_000, batchSize: undefined, seed: '1', keep: false };
  const count = (flag: string, raw: string | undefined) => {
    if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000_000)
      throw new Error(`${flag} takes a whole number from 1 to 10000000, e.g. ${flag} 50000`);
    return Number(raw);
  };
  for (let index = 0; index < args.length; index++) {
    const flag = args[index]!;
    if (flag === '--rows') options.rows = count(flag, args[++index]);
    else if (flag === '--batch-size') options.batchSize = count(flag, args[++index]);
    else if (flag === '--seed') options.seed = args[++index] ?? '1';
    else if (flag === '--keep') options.keep = true;
    else return flag === '--help' ? '' : `unknown flag ${flag}`;
  }
  return options;
}

const progress = (line: string) => void process.stderr.write(`bench:relay: ${line}\n`);

/** The first `count` outbox rows the worker writes for the bench's stream, in order. */
function workerRows(count: number, seed: string, feeRate: string, prefix: string): OutboxRow[] {
  // About 1.37 rows per planned event: plan a little more until there are enough.
  for (let events = Math.max(10, Math.ceil(count / 1.3)); ; events = Math.ceil(events * 1.25)) {
    const plan = generatePlan({ events, seed });
    const model = new FloorModel(feeRate, prefix, plan.answers);
    const now = new Date();
    const rows: OutboxRow[] = [];
    for (const event of plan.events) {
      for (const applied of model.applyAnswered(event, now)) rows.push(...applied.outbox);
      if (rows.length >= count) return rows.slice(0, count);
    }
  }
}

/**
 * Fills the outbox with `count` of the worker's rows through the pipeline's
 * own insert (one jsonb parameter, rows in their order), 5,000 rows a
 * statement; returns how many went to each topic. The rows stay local:
 * once filled, nothing of them is left for the relay's time to collect.
 */
async function fillOutbox(db: Knex, count: number, seed: string, config: Config) {
  const rows = workerRows(count, seed, config.PLATFORM_FEE_RATE, config.TOPIC_PREFIX);
  const byTopic: Record<string, number> = {};
  for (const row of rows) {
    const topic = row.topic.slice(config.TOPIC_PREFIX.length);
    byTopic[topic] = (byTopic[topic] ?? 0) + 1;
  }
  for (let start = 0; start < rows.length; start += 5000)
    await db.raw(insertOutboxSql, [outboxRecordset.json(rows.slice(start, start + 5000))]);
  await db.raw('ANALYZE outbox');
  return byTopic;
}

/** Starts one relay on the filled outbox; resolves when it has marked `rows` rows published. */
async function timeRelay(
  db: Knex,
  relay: (onPublished: (topics: readonly string[]) => void) => OutboxRelay,
  rows: number,
  signal: AbortSignal,
) {
  let published = 0;
  let finished: { at: number; cpu: NodeJS.CpuUsage } | undefined;
  const owners = await postgresOwners(db);
  const startCpu = cpuSnapshot(owners);
  const startOwn = process.cpuUsage();
  const startedAt = performance.now();
  const running = relay((topics) => {
    published += topics.length;
    if (published >= rows && !finished)
      finished = { at: performance.now(), cpu: process.cpuUsage(startOwn) };
  });
  running.start();
  let lastCount = 0;
  let lastProgressAt = Date.now();
  while (!finished) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (signal.aborted) throw new Error('interrupted');
    if (published > lastCount) [lastCount, lastProgressAt] = [published, Date.now()];
    else if (Date.now() - lastProgressAt > 60_000)
      throw new Error(`the relay published nothing for 60 s (${published} of ${rows} rows)`);
  }
  // Postgres backends the relay opened after the start count from zero.
  const machine = cpuUsageBetween(startCpu, cpuSnapshot(await postgresOwners(db)));
  await running.stop();
  return { durationMs: finished.at - startedAt, own: finished.cpu, machine };
}

async function main(options: Options, signal: AbortSignal): Promise<number> {
  const environment = await planBenchEnvironment({ ...process.env });
  const { config } = environment;
  const kafka = createKafka({ ...config, LOG_LEVEL: 'error' }, 'escrow-bench-relay');
  await checkServices(config);
  const db = createKnex(config, { poolMax: 2 });
  try {
    progress(`database ${environment.main.ownDatabase}, topic prefix ${config.TOPIC_PREFIX}`);
    await scratch.createEnvironment(environment.main);
    const byTopic = await fillOutbox(db, options.rows, options.seed, config);
    const admin = kafka.admin();
    await admin.connect();
    // As the worker creates them: 3 partitions each.
    await admin.createTopics({
      topics: outboundTopics.map((topic) => ({
        topic: config.TOPIC_PREFIX + topic,
        numPartitions: 3,
      })),
      waitForLeaders: true,
    });
    const codec = RegistryCodec.fromConfig(config);
    await codec.registerSchemas(outboundTopics);
    const producer = createProducer(kafka);
    await producer.connect();
    collectGarbage();
    const busyBefore = await quietMachine(signal, progress);
    progress(`publishing ${options.rows} rows (${JSON.stringify(byTopic)})`);
    const run = await timeRelay(
      db,
      (onPublished) =>
        new OutboxRelay(db, producer, codec, {
          databaseUrl: config.DATABASE_URL,
          topicPrefix: config.TOPIC_PREFIX,
          ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
          log: (message, fields) => progress(`${message} ${JSON.stringify(fields ?? {})}`),
          onPublished,
        }),
      options.rows,
      signal,
    );
    await producer.disconnect();
    // Every row is in its topic exactly once: the end offsets sum to the rows.
    let inTopics = 0;
    for (const topic of Object.keys(byTopic)) {
      for (const partition of await admin.fetchTopicOffsets(config.TOPIC_PREFIX + topic))
        inTopics += Number(partition.high);
    }
    await admin.disconnect();
    const perThousand = (seconds: number) => Number(((seconds * 1000) / options.rows).toFixed(4));
    const ownSeconds = (run.own.user + run.own.system) / 1e6;
    const json = {
      rows: options.rows,
      byTopic,
      batchSize: options.batchSize ?? null,
      seed: options.seed,
      durationMs: Math.round(run.durationMs),
      rowsPerSecond: Math.round(options.rows / (run.durationMs / 1000)),
      relayCpuSeconds: Number(ownSeconds.toFixed(3)),
      relayCpuSecondsPer1000Rows: perThousand(ownSeconds),
      kafkaCpuSecondsPer1000Rows: run.machine ? perThousand(run.machine.cpuSeconds.kafka) : null,
      postgresCpuSecondsPer1000Rows: run.machine
        ? perThousand(run.machine.cpuSeconds.postgres)
        : null,
      otherCpuSeconds: run.machine?.cpuSeconds.other ?? null,
      machineBusyPercentBeforeStart: busyBefore,
      messagesInTopics: inTopics,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version },
    };
    progress(
      `${json.rows} rows in ${(json.durationMs / 1000).toFixed(2)} s: ${json.rowsPerSecond} rows/s; ` +
        `CPU per 1,000 rows: relay ${json.relayCpuSecondsPer1000Rows} s, ` +
        `Kafka ${json.kafkaCpuSecondsPer1000Rows ?? '?'} s, Postgres ${json.postgresCpuSecondsPer1000Rows ?? '?'} s` +
        (json.otherCpuSeconds
          ? ` (${json.otherCpuSeconds} s of other processes' CPU meanwhile)`
          : ''),
    );
    process.stdout.write(`${JSON.stringify(json)}\n`);
    if (inTopics === options.rows) return 0;
    progress(`the topics hold ${inTopics} messages for ${options.rows} rows`);
    return 1;
  } finally {
    await db.destroy();
    await cleanUp(environment.main, kafka, options.keep);
  }
}

async function cleanUp(
  main: scratch.DemoEnvironment,
  kafka: ReturnType<typeof createKafka>,
  keep: boolean,
) {
  const steps: [string, () => Promise<unknown>][] = [
    ['deleting the topics', () => scratch.deleteOwnKafkaResources(main, kafka, { topics: !keep })],
    ...(keep
      ? []
      : ([
          ['deleting the schema subjects', () => scratch.deleteOwnSubjects(main)],
          [`dropping database ${main.ownDatabase}`, () => scratch.dropOwnDatabase(main)],
        ] as [string, () => Promise<unknown>][])),
  ];
  for (const [what, step] of steps) {
    await step().catch((error: unknown) => progress(`${what} failed: ${(error as Error).message}`));
  }
  progress(
    keep
      ? `kept database ${main.ownDatabase} and prefix ${main.config.TOPIC_PREFIX}`
      : 'cleaned up',
  );
}

runFromCommandLine({ usage, parseOptions, main, progress });
