/**
 * Runs the consumers: one consumer group over the five inbound topics, its
 * Kafka lifecycle (start, crash, stop) and offsets. Each partition's fetch is
 * taken in slices, each handed to the slice handler (slice-handler.ts):
 * decode and validate every message (undecodable or invalid → escrow.dlq.v1
 * with the reason), then its lane (lanes.ts) → one Redlock lock over the
 * orders of what the lane gathered (an efficiency guard only) → applyBatch in one
 * database transaction (transient failures retried with backoff). A slice
 * that cannot be applied goes through applyEvent one event at a time.
 *
 * Offsets: a slice's last offset is resolved only after its database commit,
 * never when it throws. Resolved offsets are committed in batches (every 100
 * messages or every second, on a rebalance, on a failure and at shutdown). A
 * crash between a database commit and the next offset commit redelivers the
 * messages since; the inbox makes each a no-op.
 *
 * Lanes: the group's assignment (src/kafka/lane-assigner.ts) gives a member
 * partition i of every inbound topic together, and the slices of partition
 * i, whatever their topic, are applied in lane i, one transaction at a time
 * (lanes.ts). Every inbound topic is keyed by orderId, so a lane holds whole
 * orders: lanes run beside each other without waiting on each other's order
 * locks. Each partition's slices keep their order; across topics no order
 * was ever promised. A producer with another partitioner puts an order's
 * events in several lanes: they are then serialized by the order's locks and
 * version guard, as they always were, at the cost of waiting.
 *
 * Redis down: the lock is skipped (logged), and processing goes on serialized
 * by the database (the order's advisory lock and row locks, and the version
 * guard). Correctness never depended on the lock; only contention grows.
 *
 * The pieces beside it: slice-handler.ts applies a slice, prepare-message.ts
 * turns a message into an event (or a dead letter), locks/order-lock.ts holds
 * the Redlock lock over a slice's orders, event-metrics.ts counts verdicts,
 * lanes.ts applies the slices of one partition number in one transaction at a time.
 *
 * Dead letters go through DeadLetterSender, which sizes them to fit the DLQ
 * and lets only transient errors out, so that none stops the consumer. If
 * KafkaJS's consumer stops anyway (a crash it does not restart from), the
 * runner says so: /readyz answers 503 and onConsumerStopped is called.
 *
 * Tracing (trace-hooks.ts) follows each slice from its fetch to its offset
 * commit: the runner starts it, and ends it once the offset is resolved, or
 * with the error when the slice is left for Kafka to deliver again.
 */
import { type Consumer, type EachBatchPayload, PartitionAssigners, type Producer } from 'kafkajs';
import { createProducer } from '../kafka/client';
import { laneAssigner } from '../kafka/lane-assigner';
import { DeadLetterSender } from './dead-letter-sender';
import { SliceHandler } from './slice-handler';
import type { RunnerDependencies } from './runner-dependencies';
import type { InboundHandler } from './topic-handler';

/**
 * Batches KafkaJS hands over at once: enough for every partition of every
 * inbound topic a member holds (5 topics of 3 partitions by default, up to 16
 * partitions each), so that a lane (lanes.ts) gathers all of its topics'
 * slices while it is busy. Waiting batches cost nothing but their memory.
 */
export const PARTITIONS_IN_PARALLEL = 80;
/**
 * Lanes applying at once, each with one transaction and one connection: one
 * per partition number a member holds, up to this many (16 partitions per
 * topic in one member; more lanes queue for a connection). The worker's pool
 * is this plus DB_POOL_SPARE.
 */
export const LANES_IN_PARALLEL = 16;
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
  private readonly slices: SliceHandler;
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
      // Whole lanes per member; round robin while some member does not know lanes (an upgrade).
      partitionAssigners: [laneAssigner, PartitionAssigners.roundRobin],
    });
    this.dlqProducer = createProducer(deps.kafka);
    this.byTopic = new Map(deps.handlers.map((handler) => [this.prefixed(handler.topic), handler]));
    const deadLetters = new DeadLetterSender({
      producer: this.dlqProducer,
      codec: deps.codec,
      metrics: deps.metrics,
      topicPrefix: deps.settings.topicPrefix,
    });
    this.slices = new SliceHandler(deps, this.byTopic, deadLetters, BATCH_LIMIT);
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
    const { topic } = this.byTopic.get(batch.topic)!;
    for (let start = 0; start < batch.messages.length; start += BATCH_LIMIT) {
      if (!payload.isRunning() || payload.isStale()) return;
      const slice = batch.messages.slice(start, start + BATCH_LIMIT);
      const trace = this.deps.tracing.slice(topic, batch.topic, batch.partition, slice);
      try {
        await this.slices.handle(batch.topic, batch.partition, slice, heartbeat, trace);
        trace.committing();
        payload.resolveOffset(slice.at(-1)!.offset);
        await payload.commitOffsetsIfNecessary();
      } catch (error) {
        trace.end(error);
        throw error;
      }
      trace.end();
      await heartbeat().catch(() => undefined);
    }
  }
}
