/**
 * Runs the consumers: one consumer group over the four inbound topics. Each
 * partition's fetch is taken in slices: every message is decoded and
 * validated (undecodable or invalid → escrow.dlq.v1 with the reason), the
 * slice's events go to the group commit (group-commit.ts) → one Redlock lock
 * over the group's orders (an efficiency guard only) → applyBatch in one
 * database transaction (transient failures retried with backoff). A slice the
 * batch path refuses goes through applyEvent one event at a time.
 *
 * Offsets: a slice's last offset is resolved only after its database commit,
 * never when it throws. Resolved offsets are committed in batches (every 100
 * messages or every second, on a rebalance, on a failure and at shutdown). A
 * crash between a database commit and the next offset commit redelivers the
 * messages since; the inbox makes each a no-op.
 *
 * Partitions are processed concurrently (all of a fetch at once), each in
 * order, so one order's events on one topic keep their order; events of one
 * order on different topics may run at once, and are serialized by the
 * order's locks.
 *
 * Redis down: the lock is skipped (logged), and processing goes on serialized
 * by the database (the order's advisory lock and row locks, and the version
 * guard). Correctness never depended on the lock; only contention grows.
 *
 * The pieces beside it: prepare-message.ts turns a message into an event
 * (or a dead letter), locks/order-lock.ts holds the Redlock lock over a
 * slice's orders, event-metrics.ts counts verdicts, group-commit.ts joins
 * slices into one transaction. This file keeps the Kafka lifecycle, the
 * slices and their offsets.
 *
 * Dead letters go through DeadLetterSender, which sizes them to fit the DLQ
 * and lets only transient errors out, so that none stops the consumer. If
 * KafkaJS's consumer stops anyway (a crash it does not restart from), the
 * runner says so: /readyz answers 503 and onConsumerStopped is called.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Knex } from 'knex';
import type { Lock } from 'redlock';
import type { RegistryCodec } from '../codec/registry-codec';
import { lockOrders } from '../locks/order-lock';
import type { LockService } from '../locks/redlock';
import type { Logger } from '../logging/logger';
import type { DeadLetterCategory, WorkerMetrics } from '../ops/metrics';
import { applyBatch } from './apply-batch';
import { applyEvent } from './apply-event';
import type { EventResult, InboundEvent, PipelineSettings } from './events';
import { isPermanent, MESSAGE_RETRY, withRetry } from './retry';
import type { InboundHandler } from './topic-handler';
import { createProducer } from '../kafka/client';
import { DeadLetterSender } from './dead-letter-sender';
import { countResult } from './event-metrics';
import { GroupCommit } from './group-commit';
import { prepareMessage } from './prepare-message';

export interface RunnerDependencies {
  kafka: Kafka;
  db: Knex;
  codec: RegistryCodec;
  locks: LockService;
  log: Logger;
  settings: PipelineSettings;
  consumerGroup: string;
  handlers: readonly InboundHandler[];
  metrics: WorkerMetrics;
  /** Fault injection (tests only): die right after this event's database commit. */
  crashAfterCommitOf?: string;
  /**
   * Called once if the KafkaJS consumer crashes and will not restart: the
   * process then consumes nothing more, so main.ts exits for a supervisor to replace it.
   */
  onConsumerStopped?: (error: Error) => void;
}

/**
 * Every partition a fetch brings is handed over at once (12 inbound
 * partitions by default), so that at a steady rate their slices arrive in
 * the same turn and go in one transaction (group-commit.ts). Flooded, each
 * full slice is its own transaction, overlapping the others. Each needs a
 * database connection: the worker's pool is this plus DB_POOL_SPARE.
 */
export const PARTITIONS_IN_PARALLEL = 12;
/** Connections beyond the partitions' for the relay, its listener's lock check, the timer and the ops API. */
export const DB_POOL_SPARE = 4;

/**
 * Messages per database transaction. A fetch brings up to 1 MiB per
 * partition; it is taken in slices of this many, each committed (and its
 * offset resolved) before the next, so a slice's transaction stays short and
 * a rebalance waits for at most one slice.
 */
const BATCH_LIMIT = 500;

export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly byTopic: Map<string, InboundHandler>;
  private readonly deadLetters: DeadLetterSender;
  private readonly groups = new GroupCommit<InboundEvent, EventResult>(
    BATCH_LIMIT,
    (events, heartbeat) => this.applyGroup(events, heartbeat),
  );
  private state: { running: false; why: string } | { running: true } = {
    running: false,
    why: 'the consumer has not started yet',
  };

  constructor(private readonly deps: RunnerDependencies) {
    // A member that died (SIGKILL, lost host) holds its partitions until its session
    // times out: 10 s instead of KafkaJS's 30 s shortens that pause for the survivors.
    this.consumer = deps.kafka.consumer({
      groupId: deps.consumerGroup,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 3000,
      // An idle fetch waits at most this long for data; disconnect waits for the
      // fetch in flight, so KafkaJS's 5 s default made every shutdown take 5 s.
      maxWaitTimeInMs: 1000,
    });
    this.dlqProducer = createProducer(deps.kafka);
    this.deadLetters = new DeadLetterSender({
      producer: this.dlqProducer,
      codec: deps.codec,
      metrics: deps.metrics,
      topicPrefix: deps.settings.topicPrefix,
    });
    this.byTopic = new Map(deps.handlers.map((handler) => [this.prefixed(handler.topic), handler]));
  }

  private prefixed(topic: string): string {
    return `${this.deps.settings.topicPrefix}${topic}`;
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.byTopic.keys()], fromBeginning: true });
    // KafkaJS restarts its consumer after a retriable crash, but after one it
    // deems final (a non-retriable broker error, a TypeError from a handler, a
    // join the group coordinator refuses) it only disconnects: the process
    // would stay up, consuming nothing. Registered before run(), since a
    // failed join crashes inside run() and run() still resolves.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.stoppedForGood(payload.error);
    });
    this.state = { running: true };
    try {
      await this.consumer.run({
        autoCommit: true,
        autoCommitThreshold: 100,
        autoCommitInterval: 1000,
        partitionsConsumedConcurrently: PARTITIONS_IN_PARALLEL,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.handleBatch(payload),
      });
    } catch (error) {
      this.state = {
        running: false,
        why: `the consumer did not start: ${(error as Error).message}`,
      };
      throw error;
    }
  }

  private stoppedForGood(error: Error): void {
    if (!this.state.running) return;
    this.state = {
      running: false,
      why: `stopped for good after a crash KafkaJS does not restart from (${error.name}: ${error.message}); restart the worker`,
    };
    this.deps.log.error(
      { err: error, consumerGroup: this.deps.consumerGroup },
      'the Kafka consumer crashed and will not restart; this worker consumes nothing more',
    );
    this.deps.onConsumerStopped?.(error);
  }

  /** For /readyz: throws, saying why, unless the consumer is running (started, not crashed or stopped). */
  assertConsuming(): void {
    if (!this.state.running) throw new Error(this.state.why);
  }

  /** Stops fetching, lets the message in hand finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (this.state.running) this.state = { running: false, why: 'the worker is stopping' };
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
  }

  /**
   * A fetched batch of one partition, in slices of BATCH_LIMIT: each slice's
   * valid events go through applyBatch in one transaction, and its offsets are
   * resolved only after that commit. A slice that cannot go in bulk (a reused
   * key, a ledger refusal, a defect) is rolled back whole and its messages go
   * through `handle` one at a time, which dead-letters only the one at fault.
   */
  async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    for (let start = 0; start < batch.messages.length; start += BATCH_LIMIT) {
      if (!payload.isRunning() || payload.isStale()) return;
      const slice = batch.messages.slice(start, start + BATCH_LIMIT);
      await this.handleSlice(batch.topic, batch.partition, slice, heartbeat);
      payload.resolveOffset(slice.at(-1)!.offset);
      await payload.commitOffsetsIfNecessary();
      await heartbeat().catch(() => undefined);
    }
  }

  private async handleSlice(
    topic: string,
    partition: number,
    messages: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const handler = this.byTopic.get(topic)!;
    const { metrics } = this.deps;
    const labels = { topic: handler.topic };
    const started = process.hrtime.bigint();
    const log = this.deps.log.child({ topic, partition });
    const events: InboundEvent[] = [];
    // The messages that became events; the others are already dead-lettered.
    const valid: KafkaMessage[] = [];
    for (const message of messages) {
      metrics.eventsConsumed.inc(labels);
      const event = await prepareMessage(
        { codec: this.deps.codec, metrics, deadLetters: this.deadLetters },
        { handler, topic, partition, message },
        heartbeat,
        log,
      );
      if (event) {
        events.push(event);
        valid.push(message);
      }
    }
    if (events.length === 0) return;

    let results: EventResult[];
    try {
      results = await this.groups.submit(events, () => void heartbeat().catch(() => undefined));
    } catch (error) {
      // Transient and still failing: nothing committed; KafkaJS redelivers from the last resolved offset.
      if (!isPermanent(error)) throw error;
      log.warn(
        { err: error, events: events.length, firstOffset: messages[0]!.offset },
        'batch could not be applied in bulk; applying its events one at a time',
      );
      metrics.batchFallbacks.inc(labels);
      for (const [index, event] of events.entries())
        await this.applyOne(topic, partition, valid[index]!, event, heartbeat);
      return;
    }
    if (events.some((event) => event.command.eventId === this.deps.crashAfterCommitOf))
      process.kill(process.pid, 'SIGKILL');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const [index, result] of results.entries()) {
      countResult(this.deps.metrics, handler.topic, result);
      metrics.processingSeconds.observe(labels, seconds);
      const { command } = events[index]!;
      log.info(
        {
          offset: events[index]!.offset,
          eventId: command.eventId,
          orderId: command.orderId,
          verdict: result.verdict,
          reason: result.reason,
          outcomes: result.outcomeIds.length,
        },
        'event processed',
      );
    }
    log.debug(
      {
        fromOffset: messages[0]!.offset,
        toOffset: messages.at(-1)!.offset,
        events: events.length,
        seconds: Number(seconds.toFixed(4)),
      },
      'batch processed',
    );
  }

  /**
   * One group's transaction (see group-commit.ts): one Redlock lock over all
   * its orders, then applyBatch with bounded retries of transient failures.
   */
  private async applyGroup(events: readonly InboundEvent[], heartbeat: () => void) {
    const { metrics } = this.deps;
    const lock = await this.lockOrders(
      events.map((event) => event.command.orderId),
      this.deps.log,
    );
    try {
      return await withRetry(() => applyBatch(this.deps.db, this.deps.settings, events), {
        ...MESSAGE_RETRY,
        onRetry: (error, attempt) => {
          heartbeat();
          metrics.transientRetries.inc({ stage: 'apply' });
          this.deps.log.warn(
            { err: error, attempt, events: events.length },
            'transient failure; retrying the batch',
          );
        },
      });
    } finally {
      await lock?.release().catch(() => undefined);
    }
  }

  /**
   * The one-event path for a prepared event (the fallback for a slice the
   * batch path refused): its own lock and transaction (applyEvent); a
   * permanent failure dead-letters this message alone as PROCESSING_FAILED.
   */
  private async applyOne(
    topic: string,
    partition: number,
    message: KafkaMessage,
    event: InboundEvent,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const keepAlive = () => void heartbeat().catch(() => undefined);
    const { metrics } = this.deps;
    const { command } = event;
    const finished = metrics.processingSeconds.startTimer({ topic: event.topic });
    const log = this.deps.log.child({ topic, partition, offset: message.offset });
    const eventLog = log.child({
      eventId: command.eventId,
      orderId: command.orderId,
      milestoneId: 'milestoneId' in command ? command.milestoneId : null,
    });
    const lock = await this.lockOrders([command.orderId], eventLog);
    try {
      const result = await withRetry(() => applyEvent(this.deps.db, this.deps.settings, event), {
        ...MESSAGE_RETRY,
        onRetry: (error, attempt) => {
          keepAlive();
          metrics.transientRetries.inc({ stage: 'apply' });
          eventLog.warn({ err: error, attempt }, 'transient failure; retrying');
        },
      });
      if (command.eventId === this.deps.crashAfterCommitOf) process.kill(process.pid, 'SIGKILL');
      countResult(this.deps.metrics, event.topic, result);
      finished();
      eventLog.info(
        { verdict: result.verdict, reason: result.reason, outcomes: result.outcomeIds.length },
        'event processed',
      );
    } catch (error) {
      // Transient and still failing: not committed; KafkaJS restarts and redelivers.
      if (!isPermanent(error)) throw error;
      // A defect, not the message's fault or the network's: keep the message, say why, go on.
      eventLog.error({ err: error }, 'event could not be processed; dead-lettered');
      await this.deadLetter(
        topic,
        partition,
        message,
        `processing failed: ${(error as Error).message}`,
        'PROCESSING_FAILED',
        eventLog,
      );
      finished();
    } finally {
      await lock?.release().catch(() => undefined);
    }
  }

  private lockOrders(orderIds: readonly string[], log: Logger): Promise<Lock | undefined> {
    const { locks, metrics, settings } = this.deps;
    return lockOrders({ locks, metrics, topicPrefix: settings.topicPrefix, log }, orderIds);
  }

  /** Sends the message to escrow.dlq.v1 (sized to fit); throws only a transient error. */
  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    category: DeadLetterCategory,
    log: Logger,
  ): Promise<void> {
    await this.deadLetters.send({ topic, partition, message }, reason, category, log);
  }
}
