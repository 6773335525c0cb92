/**
 * One fault run, start to end: the suite's own Postgres and Redis, the run's
 * topics under a prefix of its own, two worker processes; the stream and the
 * faults played together; the drain; the checks; the near-limit probe; and
 * the clean-up, which also runs when the run fails or is interrupted.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import type { Config } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { createKafka, createProducer } from '../../src/kafka/client';
import { badMessageKinds } from './adversarial';
import { planFaults, playFaults } from './chaos';
import { checkDatabase } from './check-database';
import { checkDuplicatesAbsorbed, checkFaultsPlayed } from './check-faults';
import { checkOutbound } from './check-outbound';
import { checkSettlements } from './check-settlements';
import { checkTopics } from './check-topics';
import { waitForDrain } from './drain';
import { StreamDriver } from './driver';
import { Findings } from './findings';
import { WorkerFleet } from './fleet';
import { FaultKafka } from './kafka-admin';
import { probeNearLimitValue } from './near-limit-probe';
import type { SuiteOptions } from './options';
import { PayoutService } from './payout-service';
import { Random } from './random';
import { badMessageLines, checkLines, countsOf, type RunCounts } from './report';
import { ScratchPostgres } from './scratch-postgres';
import { ScratchRedis } from './scratch-redis';
import { CleanUp, freePort, type Say } from './run-resources';
import { buildWorkload } from './workload';

export async function runSuite(
  options: SuiteOptions,
  base: Config,
  out: { say: Say; print: Say },
  cleanUp: CleanUp,
): Promise<RunCounts> {
  const { say, print } = out;
  const startedAt = Date.now();
  const rnd = new Random(options.seed);
  const findings = new Findings();
  const runDir = mkdtempSync(path.join(tmpdir(), 'escrow-faults-'));
  chmodSync(runDir, 0o755); // the postgres system user must reach its cluster inside
  let passed = false;
  cleanUp.add('removing the run folder', () => {
    if (options.keep) say(`the run folder is kept (--keep): ${runDir}`);
    else if (passed) rmSync(runDir, { recursive: true, force: true });
    else {
      // The logs are the evidence; the cluster's data files (tens of MB) are not worth keeping.
      rmSync(path.join(runDir, 'postgres', 'data'), { recursive: true, force: true });
      say(`the run folder is kept for evidence: ${runDir} (worker logs, postgres.log)`);
    }
    return Promise.resolve();
  });

  const postgres = await ScratchPostgres.create(runDir, await freePort());
  cleanUp.add('stopping the scratch Postgres', () => postgres.close());
  const redis = new ScratchRedis(await freePort());
  await redis.start();
  cleanUp.add('stopping the scratch Redis', () => redis.close());
  const prefix = `faults-${randomBytes(3).toString('hex')}.`;
  const config: Config = {
    ...base,
    DATABASE_URL: await postgres.migratedDatabase('escrow_faults'),
    REDIS_URL: [redis.url],
    TOPIC_PREFIX: prefix,
    CONSUMER_GROUP: `${prefix}escrow-worker`,
    // The scenarios' expected fees are computed at 10% (scenarios.ts feeOf).
    PLATFORM_FEE_RATE: '0.10',
  };
  say(
    `scratch Postgres on :${postgres.port}, Redis on :${redis.port}, topics ${prefix}*, run folder ${runDir}`,
  );

  const kafka = createKafka({ ...config, LOG_LEVEL: 'silent' }, 'fault-suite');
  const admin = await FaultKafka.connect(kafka, prefix, config.CONSUMER_GROUP);
  cleanUp.add('deleting the run topics and groups', async () => {
    if (!options.keep) await admin.deleteEverything();
    await admin.disconnect();
  });
  await admin.createTopics();
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, prefix);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const maxMessageBytes = await admin.maxMessageBytes();
  const db = createKnex(config, { poolMax: 4 });
  cleanUp.add('closing the database pool', () => db.destroy());
  const producer = createProducer(kafka);
  await producer.connect();
  cleanUp.add('disconnecting the producer', () => producer.disconnect());

  const orders = buildWorkload(rnd, options.events);
  // Playing the payout service: every PAYOUT_REQUESTED and REFUND_REQUESTED gets its settlement.
  const payoutService = new PayoutService({
    kafka,
    producer,
    codec,
    prefix,
    seed: options.seed,
  });
  await payoutService.start();
  cleanUp.add('stopping the payout service', () => payoutService.stop());
  const badPlan = Object.entries(badMessageKinds).flatMap(([kind, factory]) =>
    Array.from({ length: options.badRepeat }, () => ({
      kind,
      factory,
      at: 0.05 + rnd.next() * 0.85,
    })),
  );
  const slots = Array.from({ length: options.workers }, (_, slot) => slot);
  const opsPorts = await Promise.all(slots.map(() => freePort()));
  const fleet = new WorkerFleet((slot) => ({ ...config, OPS_PORT: opsPorts[slot]! }), runDir);
  cleanUp.add('stopping the workers', () => fleet.close());
  for (const slot of slots) fleet.start(slot);
  // On a deployment of its own, alongside the main stream (see near-limit-probe.ts).
  const probePort = await freePort();
  const probe = probeNearLimitValue({
    kafka,
    config: { ...config, OPS_PORT: probePort },
    postgres,
    maxMessageBytes,
    logDir: runDir,
    findings,
    say,
    cleanUp,
  }).catch((error: unknown) => {
    findings.add(
      'near_limit_value_handled',
      `the probe could not run: ${(error as Error).message}`,
    );
  });

  const driver = new StreamDriver(
    orders,
    { db, producer, codec, topic: (name) => admin.topic(name), rnd, maxMessageBytes },
    { window: options.window, stallMs: options.stallMs, badPlan },
  );
  say(
    `streaming ${driver.progress.eventsTotal} events of ${orders.length} orders and ${badPlan.length} bad messages through ${slots.length} workers`,
  );
  const reviver = setInterval(() => fleet.reviveCrashed(), 1000);
  const [, faults] = await Promise.all([
    driver.run(),
    playFaults(planFaults(rnd, options.faults), driver.progress, {
      rnd,
      fleet,
      redis,
      postgres,
      kafka: admin,
      workerSlots: slots,
      upcomingEventId: () => driver.upcomingEventId(),
      say,
    }),
  ]);
  clearInterval(reviver);
  findings.check('stream_completed', 'every order got to its last step');
  if (driver.stalled) findings.add('stream_completed', driver.stalled);

  say(
    'stream sent; waiting for the workers to drain (consumer lag 0, outbox published, timers fired)',
  );
  findings.check(
    'drained',
    'the workers caught up with everything after the faults, every request settled',
  );
  const notDrained = await drainWithSettlements(options.drainMs, async (timeoutMs) =>
    waitForDrain(db, admin, timeoutMs, () => fleet.reviveCrashed()),
  );
  if (notDrained) findings.add('drained', notDrained);
  await payoutService.stop();
  await fleet.stopAll();

  findings.check(
    'workers_only_killed_by_the_suite',
    'no crash: every worker exit was a SIGKILL the suite sent or a clean SIGTERM stop',
  );
  for (const problem of fleet.exitProblems())
    findings.add('workers_only_killed_by_the_suite', problem);
  const output = fleet.allOutput();
  // KafkaJS restarts a consumer after a retriable crash; after a non-retriable one it stays stopped.
  for (const line of output
    .split('\n')
    .filter((l) => l.includes('Crash: KafkaJSNonRetriableError'))) {
    findings.add(
      'workers_only_killed_by_the_suite',
      `a worker's consumer crashed for good: ${line.slice(0, 400)}`,
    );
  }

  checkFaultsPlayed(options.faults, faults, fleet.selfKills, findings);
  say('checking the database, the outcome topics and the DLQ');
  const { rejections } = await checkDatabase(db, orders, driver.badSent, findings);
  const duplicatesAbsorbed = await checkDuplicatesAbsorbed(
    db,
    orders,
    driver.retriesSent,
    payoutService,
    findings,
  );
  await probe;
  const topics = await checkTopics(
    { db, kafka, codec, prefix, groupPrefix: prefix },
    driver.badSent,
    findings,
  );
  await checkOutbound(codec, orders, topics.published, findings);
  await checkSettlements({ db, codec }, orders, payoutService.settled, topics.published, findings);

  print('');
  for (const line of badMessageLines(driver.badSent, topics.reasonByKind, rejections)) print(line);
  print('');
  for (const line of checkLines(findings.all())) print(line);
  if (topics.notes.length > 0) {
    print('');
    print('notes (not counted as discrepancies):');
    for (const note of topics.notes) print(`  - ${note}`);
  }
  passed = findings.total === 0;

  /**
   * Drains, lets the payout service answer every request published meanwhile
   * (releases by the timer, payouts published late), and drains again, until a
   * drained state has nothing left to settle, all within one bound.
   */
  async function drainWithSettlements(
    timeoutMs: number,
    drain: (timeoutMs: number) => Promise<string | undefined>,
  ): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pending = await drain(Math.max(5_000, deadline - Date.now()));
      if (pending) return pending;
      let answered: number;
      try {
        answered = await payoutService.catchUp();
      } catch (error) {
        return `the payout service could not answer every request: ${(error as Error).message}`;
      }
      if (answered === 0) return undefined;
      if (Date.now() > deadline)
        return `requests were still being settled at the drain's deadline (${answered} settlements just sent)`;
    }
  }
  return countsOf({
    events: driver.progress.eventsSent,
    orders: orders.length,
    faults,
    workerRestarts: fleet.restarts,
    selfKills: fleet.selfKills,
    badMessages: driver.badSent.length + 1, // + the near-limit probe's value
    duplicatesAbsorbed,
    settlements: payoutService.settled.size,
    settlementsFailed: payoutService.failures,
    chargebacks: orders.reduce((n, order) => n + order.chargebacks.length, 0),
    discrepancies: findings.total,
    outcomesPublished: topics.outcomesPublished,
    deadLetters: topics.deadLetters,
    seed: options.seed,
    startedAt,
  });
}
