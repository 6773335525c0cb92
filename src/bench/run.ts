/**
 * One benchmark, start to end: plan the events, create the bench's own
 * databases, optionally preload past ledger entries, measure the worker,
 * check the result with reconciliation (a run that lost or doubled anything
 * is not a result), then measure the two floors on the same machine, one
 * after the other so they never compete with the worker or each other.
 * Clean-up is the caller's, so it also runs after a failure.
 */
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { createKnex } from '../db/knex';
import { runReconciliation } from '../reconcile';
import { type FloorResult, measureDbFloor } from './db-floor';
import {
  cleanUpBench,
  createBenchDatabases,
  planBenchEnvironment,
  type BenchEnvironment,
} from './environment';
import type { BenchPlan } from './generator';
import { measureKafkaFloor } from './kafka-floor';
import { measureWorker, type WorkerMeasurement } from './measure-worker';
import type { BenchOptions } from './options';
import { preloadLedger } from './preload';
import { waitForQuietMachine } from './cpu-usage';

export interface BenchRun {
  readonly options: BenchOptions;
  readonly plan: BenchPlan;
  readonly worker: WorkerMeasurement;
  readonly verdicts: Readonly<Record<string, number>>;
  readonly reconciliation: { clean: boolean; findings: string[]; elapsedMs: number };
  readonly kafkaFloor: { eventsPerSecond: number; durationMs: number; passes: number };
  readonly dbFloor: FloorResult;
  readonly preload: {
    entries: number;
    durationMs: number;
    /**
     * The same plan on an empty ledger, right before and right after the
     * preloaded measurement (each on a database and prefix of its own), so
     * the preloaded figure is compared with runs on the same machine state.
     */
    emptyLedger: { before: number; after: number };
  } | null;
}

export interface RunContext {
  readonly options: BenchOptions;
  readonly plan: BenchPlan;
  readonly environment: BenchEnvironment;
  readonly kafka: Kafka;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  readonly progress: (line: string) => void;
}

export async function runBench(context: RunContext): Promise<BenchRun> {
  const { options, plan, environment, progress } = context;
  const { config } = environment;
  progress(
    `creating databases ${environment.main.ownDatabase} and ${environment.floor.ownDatabase}`,
  );
  await createBenchDatabases(environment);
  const db = createKnex(config, { poolMax: 3 });
  try {
    let preloaded: { entries: number; durationMs: number } | null = null;
    if (options.preloadEntries > 0) {
      const started = Date.now();
      const entries = await preloadLedger(db, options.preloadEntries, progress, context.signal);
      preloaded = { entries, durationMs: Date.now() - started };
      progress(
        `preloaded ${entries} ledger entries in ${(preloaded.durationMs / 1000).toFixed(1)} s`,
      );
      // Minutes of bulk writes leave the machine busy for a while (dirty pages
      // written back, autovacuum); the figure to compare is the worker on a
      // large ledger, not on a machine still digesting the load.
      const settled = await waitForQuietMachine({
        maxBusy: 0.12,
        windowMs: 5000,
        timeoutMs: 120_000,
        signal: context.signal,
      });
      const busy = settled.busy === null ? 'unknown' : `${(100 * settled.busy).toFixed(0)}%`;
      progress(
        settled.quiet
          ? `the machine settled after the preload in ${(settled.waitedMs / 1000).toFixed(0)} s (${busy} busy)`
          : `the machine was still ${busy} busy ${(settled.waitedMs / 1000).toFixed(0)} s after the preload; measuring anyway`,
      );
    }

    // With a preload, the same plan also runs on an empty ledger right before
    // and right after, so the comparison is made on the same machine state.
    const before = preloaded ? await measureOnEmptyLedger(context, 'before') : null;
    const worker = await measureWorker({ ...context, db, rate: options.rate });
    progress(
      `worker done: ${worker.eventsPerSecond.toFixed(0)} events/s, p99 ${worker.latency.p99Ms.toFixed(0)} ms`,
    );
    const after = preloaded ? await measureOnEmptyLedger(context, 'after') : null;
    const preload: BenchRun['preload'] =
      preloaded && before !== null && after !== null
        ? { ...preloaded, emptyLedger: { before, after } }
        : null;
    const verdicts = await inboxVerdicts(db);

    progress('reconciling the bench database');
    const report = await whileCancellable(db, context.signal, () => runReconciliation(db));
    progress(
      `reconciled in ${(report.elapsedMs / 1000).toFixed(1)} s: ${report.clean ? 'clean' : 'NOT clean'}`,
    );
    const findings = report.checks
      .filter((check) => check.status !== 'ok')
      .map((check) => `${check.name}: ${check.count}`);

    progress('measuring the Kafka floor (pass-through of the same messages)');
    const kafkaFloor = await measureKafkaFloor(context.kafka, {
      topicPrefix: config.TOPIC_PREFIX,
      groupId: environment.passThroughGroup,
      scratchTopic: environment.passThroughTopic,
      // The settlements sent are on the settlements topic with the planned events.
      expected: worker.eventsSent,
      timeoutMs: 300_000,
    });

    progress('measuring the database floor (the same rows, batched SQL)');
    const floorDb = createKnex(environment.floor.config, { poolMax: 1 });
    let dbFloor;
    try {
      dbFloor = await measureDbFloor(floorDb, plan, {
        feeRate: config.PLATFORM_FEE_RATE,
        topicPrefix: config.TOPIC_PREFIX,
      });
    } finally {
      await floorDb.destroy();
    }
    return {
      options,
      plan,
      worker,
      verdicts,
      reconciliation: { clean: report.clean, findings, elapsedMs: report.elapsedMs },
      kafkaFloor,
      dbFloor,
      preload,
    };
  } finally {
    await db.destroy();
  }
}

/**
 * Runs `work`, cancelling the bench's own queries on its database when the
 * run is interrupted: one reconciliation statement over a large ledger can
 * take minutes, and Ctrl-C should not wait for it.
 */
async function whileCancellable<T>(
  db: Knex,
  signal: AbortSignal,
  work: () => Promise<T>,
): Promise<T> {
  const cancel = () =>
    void db
      .raw(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      )
      .catch(() => undefined);
  signal.addEventListener('abort', cancel);
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** What the worker decided, from its inbox: APPLIED, REJECTED <reason>, KEPT, ... (preloaded history left out). */
async function inboxVerdicts(db: Knex): Promise<Record<string, number>> {
  const rows = await db('inbox')
    .whereNot('payload_hash', 'preloaded')
    .select<{ verdict: string; count: string }[]>(
      db.raw(`outcome || coalesce(' ' || reason, '') AS verdict`),
      db.raw('count(*) AS count'),
    )
    .groupBy('verdict')
    .orderBy('count', 'desc');
  return Object.fromEntries(rows.map((row) => [row.verdict, Number(row.count)]));
}

/**
 * The worker on an empty ledger: the same plan, a database, prefix and group
 * of its own (created and removed here), measured for its throughput only.
 */
async function measureOnEmptyLedger(
  context: RunContext,
  when: 'before' | 'after',
): Promise<number> {
  const { progress, kafka } = context;
  const twin = await planBenchEnvironment(context.baseEnv, context.options.instances);
  progress(`measuring the same plan on an empty ledger (${when} the preloaded run)`);
  await createBenchDatabases(twin);
  const db = createKnex(twin.config, { poolMax: 3 });
  let failed = true;
  try {
    const measured = await measureWorker({
      ...context,
      environment: twin,
      db,
      rate: context.options.rate,
    });
    progress(`empty ledger (${when}): ${measured.eventsPerSecond.toFixed(0)} events/s`);
    failed = false;
    return measured.eventsPerSecond;
  } finally {
    await db.destroy();
    const report = await cleanUpBench(twin, kafka, { keep: false, keepLog: failed });
    for (const failure of report.failed) progress(`clean-up: ${failure}`);
  }
}
