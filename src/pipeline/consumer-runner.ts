/**
 * Runs the consumers: one consumer group over the four inbound topics. For each
 * message: decode → validate (undecodable or invalid → escrow.dlq.v1 with the
 * reason, then committed) → Redlock on the order (an efficiency guard only) →
 * applyEvent in one database transaction (transient failures retried with
 * backoff) → offset committed only after the database commit.
 *
 * Offsets: KafkaJS resolves a message's offset only when this handler
 * returns, which is after its database commit, never when it throws. Resolved
 * offsets are committed in batches (every 100 messages or every second, on a
 * rebalance, on a failure and at shutdown) rather than one round trip per
 * message. A crash between a database commit and the next offset commit
 * redelivers the messages since; the inbox makes each a no-op.
 *
 * Partitions are processed concurrently (a few at a time), each in order, so
 * one order's events on one topic keep their order; events of one order on
 * different topics may run at once, and are serialized by the order's locks.
 *
 * Redis down: the lock is skipped (logged), and processing goes on serialized
 * by the database (the order's advisory lock and row locks, and the version
 * guard). Correctness never depended on the lock; only contention grows.
 */
import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Knex } from 'knex';
import type { Lock } from 'redlock';
import type { RegistryCodec } from '../codec/registry-codec';
import type { LockService } from '../locks/redlock';
import type { Logger } from '../logging/logger';
import type { DeadLetterCategory, WorkerMetrics } from '../ops/metrics';
import { applyEvent, type EventResult, type PipelineSettings } from './apply-event';
import { isPermanent, withRetry } from './retry';
import type { InboundHandler } from './topic-handler';
import { createProducer } from '../kafka/client';

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
}

// Bounded so that one message never holds its partition long: after the budget
// the handler throws, nothing is committed, and KafkaJS redelivers after its
// own backoff. Heartbeats between attempts keep the member in the group.
// Enough to overlap the database's and the broker's round trips on two cores,
// and well inside the database pool (10), which the relay and timer share.
const PARTITIONS_IN_PARALLEL = 4;

const retryOptions = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2000, budgetMs: 8000 };

export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly byTopic: Map<string, InboundHandler>;

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
    this.byTopic = new Map(deps.handlers.map((handler) => [this.prefixed(handler.topic), handler]));
  }

  private prefixed(topic: string): string {
    return `${this.deps.settings.topicPrefix}${topic}`;
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.byTopic.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: true,
      autoCommitThreshold: 100,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently: PARTITIONS_IN_PARALLEL,
      eachMessage: (payload) =>
        this.handle(payload.topic, payload.partition, payload.message, () => payload.heartbeat()),
    });
  }

  /** Stops fetching, lets the message in hand finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.dlqProducer.disconnect();
  }

  async handle(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    const keepAlive = () => void heartbeat().catch(() => undefined);
    const handler = this.byTopic.get(topic)!;
    const { metrics } = this.deps;
    const labels = { topic: handler.topic };
    const finished = metrics.processingSeconds.startTimer(labels);
    metrics.eventsConsumed.inc(labels);
    const log = this.deps.log.child({ topic, partition, offset: message.offset });
    const decoded = await withRetry(() => this.deps.codec.decode(handler.topic, message.value), {
      ...retryOptions,
      onRetry: (error) => {
        keepAlive();
        metrics.transientRetries.inc({ stage: 'decode' });
        log.warn({ err: error }, 'schema registry unavailable; retrying');
      },
    });
    if (!decoded.ok) {
      await this.deadLetter(topic, partition, message, decoded.reason, 'UNDECODABLE', log);
      return void finished();
    }
    const parsed = handler.parse(decoded.value);
    if (!parsed.ok) {
      await this.deadLetter(topic, partition, message, parsed.reason, 'INVALID', log);
      return void finished();
    }

    const { command } = parsed;
    const eventLog = log.child({
      eventId: command.eventId,
      orderId: command.orderId,
      milestoneId: 'milestoneId' in command ? command.milestoneId : null,
    });
    const lock = await this.lockOrder(command.orderId, eventLog);
    try {
      const result = await withRetry(
        () =>
          applyEvent(this.deps.db, this.deps.settings, {
            topic: handler.topic,
            partition,
            offset: message.offset,
            occurredAt: parsed.occurredAt,
            command,
          }),
        {
          ...retryOptions,
          onRetry: (error, attempt) => {
            keepAlive();
            metrics.transientRetries.inc({ stage: 'apply' });
            eventLog.warn({ err: error, attempt }, 'transient failure; retrying');
          },
        },
      );
      if (command.eventId === this.deps.crashAfterCommitOf) process.kill(process.pid, 'SIGKILL');
      this.count(handler.topic, result);
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

  private count(topic: string, result: EventResult): void {
    const { metrics } = this.deps;
    const labels = { topic };
    switch (result.verdict) {
      case 'APPLIED':
        metrics.eventsApplied.inc(labels);
        break;
      case 'KEPT':
        metrics.eventsKept.inc(labels);
        break;
      case 'UNCHANGED':
        metrics.eventsUnchanged.inc(labels);
        break;
      case 'DUPLICATE':
        metrics.duplicatesAbsorbed.inc(labels);
        break;
      case 'REJECTED':
      case 'IDEMPOTENCY_CONFLICT':
        metrics.eventsRejected.inc({ topic, reason: result.reason ?? result.verdict });
        break;
    }
    metrics.ledgerTransactionsPosted.inc(result.ledgerTransactions);
  }

  private async lockOrder(orderId: string, log: Logger): Promise<Lock | undefined> {
    const resource = `escrow:${this.deps.settings.topicPrefix}lock:order:${orderId}`;
    const waited = this.deps.metrics.lockWaitSeconds.startTimer();
    const acquiring = this.deps.locks.redlock.acquire([resource], 10_000);
    try {
      return await Promise.race([
        acquiring,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('Redis did not answer in 1s')), 1000),
        ),
      ]);
    } catch (error) {
      const timedOut = /did not answer/.test((error as Error).message);
      this.deps.metrics.lockFailures.inc({ reason: timedOut ? 'TIMEOUT' : 'NOT_GRANTED' });
      // Given up on: if the lock is granted later after all, hand it straight back.
      void acquiring.then((late) => late.release()).catch(() => undefined);
      log.warn({ err: error }, 'no Redis lock; continuing under the database locks alone');
      return undefined;
    } finally {
      waited();
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    reason: string,
    category: DeadLetterCategory,
    log: Logger,
  ): Promise<void> {
    const originalHeaders = headersAsText(message.headers);
    const record = {
      sourceTopic: topic,
      sourcePartition: partition,
      sourceOffset: message.offset,
      reason,
      originalKey: message.key,
      originalValue: message.value,
      originalHeaders,
      deadLetteredAt: new Date().toISOString(),
    };
    const value = await withRetry(
      () => this.deps.codec.encode('escrow.dlq.v1', record),
      retryOptions,
    );
    await this.dlqProducer.send({
      topic: this.prefixed('escrow.dlq.v1'),
      acks: -1,
      messages: [
        {
          key: message.key,
          value,
          headers: {
            'dlq-source-topic': topic,
            'dlq-source-partition': String(partition),
            'dlq-source-offset': message.offset,
            'dlq-reason': reason.slice(0, 1000),
          },
        },
      ],
    });
    this.deps.metrics.eventsDeadLettered.inc({
      topic: topic.slice(this.deps.settings.topicPrefix.length),
      reason: category,
    });
    log.warn({ reason, category }, 'message dead-lettered');
  }
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    text[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return text;
}
