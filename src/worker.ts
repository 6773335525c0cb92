/**
 * The worker assembled: consumers, outbox relay, inspection timer and the
 * operations API, started in dependency order and stopped in reverse. Used
 * by main.ts and by tests that run a whole worker in-process.
 */
import type http from 'node:http';
import { consumers } from '../consumers';
import { RegistryCodec } from './codec/registry-codec';
import { inboundTopics, outboundTopics } from './codec/schemas';
import type { Config } from './config';
import { checkDatabaseConnection } from './db/connection-check';
import { createKnex } from './db/knex';
import { createKafka, createProducer } from './kafka/client';
import { checkKafkaConnection } from './kafka/connection-check';
import { ensureTopics } from './kafka/topics';
import { createLockService } from './locks/redlock';
import { checkRedisNodes } from './locks/redis-start-check';
import type { Logger } from './logging/logger';
import { createMetrics } from './ops/metrics';
import { startOpsServer } from './ops/ops-server';
import { scrapeSources } from './ops/scrape-sources';
import { formatReport, runReconciliation } from './reconcile';
import { deadLetterReader } from './dlq/dead-letters-view';
import { operationsViews } from './views/operations-views';
import { OutboxRelay } from './outbox/relay';
import { ConsumerRunner, DB_POOL_SPARE, LANES_IN_PARALLEL } from './pipeline/consumer-runner';
import type { PipelineSettings } from './pipeline/events';
import { InspectionTimer } from './timers/inspection-timer';
import { startTracing, type TracingOptions } from './tracing/start-tracing';

export interface RunningWorker {
  stop(): Promise<void>;
  /**
   * Settles with the error if the Kafka consumer crashes and KafkaJS will not
   * restart it; never otherwise. The process is then of no use (main.ts exits).
   */
  readonly consumerStopped: Promise<Error>;
}

/** What a worker may be given besides its configuration (tests). */
export interface WorkerOptions {
  /** Traces: a tracer provider to record spans with, instead of the configuration's (src/tracing). */
  readonly tracing?: TracingOptions;
}

export async function startWorker(
  config: Config,
  log: Logger,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const db = createKnex(config, { poolMax: LANES_IN_PARALLEL + DB_POOL_SPARE });
  const kafka = createKafka(config, 'escrow-worker', log);
  const locks = createLockService(config, log.child({ component: 'redis' }));
  const codec = RegistryCodec.fromConfig(config);
  // The relay and the consumers start after the API; the gauge and /readyz ask whichever exist by then.
  const started: { relay?: OutboxRelay; runner?: ConsumerRunner } = {};
  const settings: PipelineSettings = {
    topicPrefix: config.TOPIC_PREFIX,
    defaultFeeRate: config.PLATFORM_FEE_RATE,
    now: () => new Date(),
    // What this process commits, its relay publishes without reading it back (src/outbox/relay.ts).
    committedOutbox: (rows) => started.relay?.offer(rows),
  };

  // The schemas first: a governed registry is read-only for the worker, which
  // then looks its schemas up and stops, naming what is missing, before it
  // binds a port or connects to anything else. Then a PING to every Redis
  // node: one that refuses the worker (password, certificate, TLS) stops it
  // here, not at its first lock; one that is down does not.
  try {
    if (config.SCHEMA_AUTO_REGISTER)
      await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
    else await codec.lookUpSchemas([...inboundTopics, ...outboundTopics]);
    await checkRedisNodes(config, log.child({ component: 'redis' }));
    // Then Kafka: a refused password, an untrusted certificate or a protocol
    // that does not match the listener stops it here (src/kafka/connection-check.ts).
    await checkKafkaConnection(config, { log: log.child({ component: 'kafka' }) });
    // And Postgres: a wrong password or an untrusted certificate (src/db/connection-check.ts).
    await checkDatabaseConnection(db, config.DATABASE_URL);
  } catch (error) {
    await locks.close();
    await db.destroy();
    throw error;
  }

  // Bind the operations port next: a taken port stops the start before anything joins the group.
  const opsAdmin = kafka.admin();
  let consumerStopped!: (error: Error) => void;
  const stoppedForGood = new Promise<Error>((resolve) => (consumerStopped = resolve));
  const metrics = createMetrics(
    scrapeSources({
      admin: opsAdmin,
      db,
      consumerGroup: config.CONSUMER_GROUP,
      topicPrefix: config.TOPIC_PREFIX,
      inboundTopics,
      relayActive: () => started.relay?.isActive ?? false,
    }),
  );
  const server: http.Server = await startOpsServer(config.OPS_PORT, {
    token: config.OPS_TOKEN,
    log: log.child({ component: 'ops-api' }),
    checks: {
      kafka: async () => {
        await opsAdmin.connect();
        await opsAdmin.describeCluster();
      },
      registry: () => codec.ping(),
      postgres: async () => void (await db.raw('SELECT 1')),
      redis: async () => void (await locks.clients[0]!.ping()),
      // Not a dependency but this process's own consumer: starting, running, or stopped for good.
      consumer: () => {
        if (started.runner === undefined) throw new Error('the consumer has not started yet');
        started.runner.assertConsuming();
        return Promise.resolve();
      },
    },
    metrics: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
    views: operationsViews(db),
    // The console's attention page: the DLQ tool's bounded read, through this process's Kafka client.
    deadLetters: deadLetterReader({
      kafka,
      codec,
      db,
      topicPrefix: config.TOPIC_PREFIX,
      consumerGroup: config.CONSUMER_GROUP,
    }),
    reconciliation: async () => {
      const report = await runReconciliation(db);
      return { json: report, text: formatReport(report) };
    },
  });

  // Missing topics are created; the inbound ones must share one partition count (lanes).
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(
      admin,
      inboundTopics.map((topic) => `${config.TOPIC_PREFIX}${topic}`),
      outboundTopics.map((topic) => `${config.TOPIC_PREFIX}${topic}`),
    );
  } catch (error) {
    // Nothing joined the group yet: close what started, so the caller gets the reason alone.
    await new Promise((resolve) => server.close(resolve));
    await opsAdmin.disconnect();
    await locks.close();
    await db.destroy();
    throw error;
  } finally {
    await admin.disconnect();
  }

  const tracing = await startTracing(config, log.child({ component: 'tracing' }), options.tracing);
  const relayProducer = createProducer(kafka);
  await relayProducer.connect();
  const relay = new OutboxRelay(db, relayProducer, codec, {
    databaseUrl: config.DATABASE_URL,
    topicPrefix: config.TOPIC_PREFIX,
    log: (message, fields) => log.info(fields ?? {}, message),
    onPublished: (topics) => {
      for (const topic of topics) metrics.outcomesPublished.inc({ topic });
    },
  });
  started.relay = relay;
  relay.start();
  const timer = new InspectionTimer(db, settings, log.child({ component: 'inspection-timer' }), {
    tracing: tracing.pipeline,
  });
  timer.start();
  const runner = new ConsumerRunner({
    kafka,
    db,
    codec,
    locks,
    log,
    settings,
    consumerGroup: config.CONSUMER_GROUP,
    handlers: consumers,
    metrics,
    tracing: tracing.pipeline,
    crashAfterCommitOf: config.FAULT_CRASH_AFTER_COMMIT,
    onConsumerStopped: consumerStopped,
  });
  started.runner = runner;
  await runner.start();

  log.info({ port: config.OPS_PORT, topicPrefix: config.TOPIC_PREFIX }, 'escrow-worker started');

  return {
    consumerStopped: stoppedForGood,
    async stop() {
      log.info('stopping: no new fetches, finishing the message in hand');
      await runner.stop();
      await timer.stop();
      await relay.stop();
      await relayProducer.disconnect();
      await opsAdmin.disconnect();
      await new Promise((resolve) => server.close(resolve));
      await locks.close();
      await db.destroy();
      // Last: the spans of the work finished above are exported before the process ends.
      await tracing.shutdown();
      log.info('stopped');
    },
  };
}
