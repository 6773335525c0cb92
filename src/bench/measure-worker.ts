/**
 * The measured run: the workers under test (one, or `--instances` in one
 * consumer group) start as child processes on the bench database and prefix, the outcome reader follows the outcome topics,
 * the plan is produced (flooded or at a steady rate) while each payout and
 * refund read is answered with its settlement (feedback.ts), and the run
 * ends when every inbound message is committed, the outbox is drained,
 * every outcome has been read and no settlement is left to send. CPU per
 * component is accounted over the same span, and the group's assignment is
 * checked for whole lanes throughout (lane-watch.ts).
 */
import type { Admin, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { RegistryCodec } from '../codec/registry-codec';
import { inboundTopics, outboundTopics } from '../codec/schemas';
import { createProducer } from '../kafka/client';
import { waitForCompletion } from './completion';
import { type SettlementCounts, SettlementFeedback } from './feedback';
import { cpuSnapshot, cpuUsageBetween, type CpuUsage, type Owners, parentOf } from './cpu-usage';
import { type Activity, DbActivitySampler, type LockKind } from './db-activity';
import type { BenchEnvironment } from './environment';
import type { BenchPlan } from './generator';
import { type LaneReport, LaneWatch } from './lane-watch';
import { OutcomeReader } from './outcome-reader';
import { produceEvents } from './produce';
import { type LatencySummary, runFigures, type RunFigures, summarizeLatencies } from './stats';
import { WorkerGroup } from './worker-group';

export interface WorkerMeasurement extends RunFigures {
  /** Inbound events sent: the planned ones and the settlements of the requests read. */
  readonly eventsSent: number;
  readonly settlements: SettlementCounts;
  /** The settlements' own latency: sent → their outcome (PAYOUT_SETTLED, ...). */
  readonly settlementLatency: LatencySummary;
  /** The highest of the instances' peak resident sets. */
  readonly peakRssBytes: number;
  /** Each instance's peak resident set, in instance order. */
  readonly peakRssBytesByInstance: readonly number[];
  readonly instances: number;
  readonly produceMs: number;
  readonly outcomes: number;
  readonly outcomeRedeliveries: number;
  readonly deadLettered: number;
  /** Every instance's /metrics text, one after the other (null when one did not answer). */
  readonly metricsText: string | null;
  readonly cpu: CpuUsage | null;
  /** Share of wall time (percent) per state of the worker's database sessions. */
  readonly dbActivity: Partial<Record<Activity, number>>;
  /** Of the samples in which a worker session waited for a lock, the share (percent) per kind of lock. */
  readonly lockWaits: Partial<Record<LockKind, number>>;
  readonly lanes: LaneReport;
}

export interface MeasureContext {
  readonly environment: BenchEnvironment;
  readonly kafka: Kafka;
  readonly db: Knex;
  readonly plan: BenchPlan;
  readonly rate: number | undefined;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  readonly progress: (line: string) => void;
}

/** Until the group is Stable with every instance in it, so no member's join rebalances the run. */
async function waitForStableGroup(
  admin: Admin,
  groupId: string,
  members: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [group] = (await admin.describeGroups([groupId])).groups;
    if (group?.state === 'Stable' && group.members.length === members) return;
    if (Date.now() > deadline) {
      throw new Error(
        `consumer group ${groupId} did not settle with ${members} members within ${timeoutMs / 1000} s ` +
          `(state ${group?.state ?? 'unknown'}, ${group?.members.length ?? 0} members)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The processes of the bench's own Postgres server and Redis, to account CPU to them and no others. */
async function cpuOwners(
  db: Knex,
  workerPids: readonly number[],
  redisUrl: string,
): Promise<Owners> {
  const { rows } = await db.raw<{ rows: { pid: number }[] }>(`SELECT pid FROM pg_stat_activity`);
  const backends = rows.map((row) => Number(row.pid));
  // Every backend is a child of the postmaster, which is counted too.
  const postmaster = backends.length > 0 ? parentOf(backends[0]!) : null;
  return {
    workerPids: new Set(workerPids),
    postgresPids: new Set(postmaster === null ? backends : [...backends, postmaster]),
    redisPort: new URL(redisUrl).port || '6379',
  };
}

export async function measureWorker(context: MeasureContext): Promise<WorkerMeasurement> {
  const { environment, kafka, plan, progress } = context;
  const { config } = environment;
  const codec = RegistryCodec.fromConfig(config);
  // Registered before any worker starts, as a deployment's earlier workers would have: workers
  // starting together on a new prefix race to create each subject, and the registry refuses
  // the later creation (409) as if the schema were incompatible. Registering the same schema
  // again is a look-up, so each worker's own registration then succeeds.
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const workers = WorkerGroup.start(environment.workers, context.baseEnv);
  const admin = kafka.admin();
  const lanes = new LaneWatch(admin, config.CONSUMER_GROUP, config.TOPIC_PREFIX);
  const producer = createProducer(kafka);
  const feedbackProducer = createProducer(kafka);
  const feedback = new SettlementFeedback(plan.answers, {
    producer: feedbackProducer,
    codec,
    topicPrefix: config.TOPIC_PREFIX,
  });
  const reader = new OutcomeReader(
    kafka,
    codec,
    config.TOPIC_PREFIX,
    environment.main.outcomeGroup,
    (request) => feedback.answer(request),
  );
  const sampler = new DbActivitySampler(config.DATABASE_URL);
  let sampling = false;
  try {
    for (const [index, instance] of workers.instances.entries()) {
      const which = workers.instances.length === 1 ? 'the worker' : `worker ${index + 1}`;
      progress(`starting ${which} (pid ${instance.pid}, log ${instance.logPath})`);
    }
    await workers.waitReady(60_000);
    await admin.connect();
    // Ready answers before the consumer has joined; producing earlier would time the join.
    await waitForStableGroup(admin, config.CONSUMER_GROUP, workers.instances.length, 60_000);
    lanes.start();
    await producer.connect();
    await feedbackProducer.connect();
    await reader.start();

    await sampler.start();
    sampling = true;
    const owners = await cpuOwners(context.db, workers.pids, config.REDIS_URL[0]!);
    const startCpu = cpuSnapshot(owners);
    const duplicates = new Set(
      plan.events.filter((e) => e.kind === 'DUPLICATE_PAYMENT').map((e) => e.message.eventId),
    );
    let produced = 0;
    let lastLine = 0;
    const startedAt = Date.now();
    const report = (state: { lag: number; outboxBacklog: number; outcomes: number }) => {
      if (Date.now() - lastLine < 2000) return;
      lastLine = Date.now();
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
      const rss = (Math.max(...workers.peakRssBytesByInstance) / 2 ** 20).toFixed(0);
      progress(
        `${seconds} s: produced ${produced}/${plan.events.length}, worker lag ${state.lag}, ` +
          `settlements sent ${feedback.sentAt.size}, outbox backlog ${state.outboxBacklog}, ` +
          `outcomes read ${state.outcomes}, worker peak RSS ${rss} MB`,
      );
    };
    // Production and the watch run together: a worker that dies mid-run is reported at once,
    // and either failing stops the other.
    const local = new AbortController();
    const stop = () => local.abort();
    context.signal.addEventListener('abort', stop);
    let producingDone = false;
    // At a steady rate the planned stream gets its share of it; the settlements,
    // sent as their requests are read, make up the rest.
    const streamShare = plan.events.length / (plan.events.length + plan.answers.size);
    const producing = produceEvents(plan.events, {
      producer,
      codec,
      topicPrefix: config.TOPIC_PREFIX,
      rate: context.rate === undefined ? undefined : context.rate * streamShare,
      signal: local.signal,
      onBatch: (sent) => (produced = sent),
    }).then((result) => {
      producingDone = true;
      progress(
        `produced ${result.sentAt.size} events in ${((result.lastAckedAt - result.firstSentAt) / 1000).toFixed(1)} s`,
      );
      return result;
    });
    const completion = waitForCompletion({
      admin,
      db: context.db,
      consumerGroup: config.CONSUMER_GROUP,
      topicPrefix: config.TOPIC_PREFIX,
      reader,
      workers,
      signal: local.signal,
      stallMs: 60_000,
      producing: () => {
        if (feedback.error) throw feedback.error;
        return !producingDone || feedback.busy;
      },
      handedOver: () => produced + feedback.enqueued,
      onProgress: report,
    });
    let sent;
    try {
      [sent] = await Promise.all([producing, completion]);
    } catch (error) {
      local.abort();
      throw error;
    } finally {
      context.signal.removeEventListener('abort', stop);
    }
    const endCpu = cpuSnapshot(await cpuOwners(context.db, workers.pids, config.REDIS_URL[0]!));
    sampling = false;
    const dbActivity = await sampler.stop();
    const lockWaits = sampler.lockWaits();
    // The last look at the assignment, while every worker is still in the group.
    const laneReport = await lanes.stop();
    if (reader.problems.length > 0) {
      throw new Error(
        `published outcomes could not be read: ${reader.problems.slice(0, 5).join('; ')}`,
      );
    }
    const dlq = await admin.fetchTopicOffsets(`${config.TOPIC_PREFIX}escrow.dlq.v1`);
    const { peakRssBytesByInstance } = workers;
    const settlementLatencies = [...feedback.sentAt].flatMap(([eventId, at]) => {
      const published = reader.publishedAt.get(eventId);
      return published === undefined ? [] : [Math.max(0, published - at)];
    });
    return {
      ...runFigures({
        sentAt: new Map([...sent.sentAt, ...feedback.sentAt]),
        publishedAt: reader.publishedAt,
        duplicates,
        firstSentAt: sent.firstSentAt,
        lastPublishedAt: reader.lastPublishedAt,
      }),
      eventsSent: sent.sentAt.size + feedback.sentAt.size,
      settlements: feedback.counts(),
      settlementLatency: summarizeLatencies(settlementLatencies),
      peakRssBytes: Math.max(...peakRssBytesByInstance),
      peakRssBytesByInstance,
      instances: workers.instances.length,
      produceMs: sent.lastAckedAt - sent.firstSentAt,
      outcomes: reader.outcomes,
      outcomeRedeliveries: reader.redeliveries,
      deadLettered: dlq.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0),
      metricsText: await workers.metrics(),
      cpu: cpuUsageBetween(startCpu, endCpu),
      dbActivity,
      lockWaits,
      lanes: laneReport,
    };
  } finally {
    if (sampling) await sampler.stop();
    await lanes.cancel();
    await reader.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await feedbackProducer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await workers.stop();
  }
}
