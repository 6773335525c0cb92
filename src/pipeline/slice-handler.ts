/**
 * One slice of a partition's fetch, from messages to committed results: each
 * message prepared (decoded and validated, or dead-lettered), the slice's
 * events handed to its lane (lanes.ts: the partition number, shared by every
 * inbound topic), which applies the slices it gathers under one Redlock lock
 * in one transaction (applyBatch, transient failures retried). A slice that
 * cannot be applied goes through again one event at a time (applyEvent), in
 * its lane, and an event that still fails for good is dead-lettered as
 * PROCESSING_FAILED, alone. Counts and logs each event's verdict.
 *
 * Tracing (trace-hooks.ts) is beside it: the runner's SliceTrace gives each
 * message the trace context its event carries, and both units of work, the
 * group's and one event's, are decorated once, here in the constructor.
 */
import type { KafkaMessage } from 'kafkajs';
import type { Lock } from 'redlock';
import { lockOrders } from '../locks/order-lock';
import type { Logger } from '../logging/logger';
import type { DeadLetterCategory } from '../ops/metrics';
import { applyBatch } from './apply-batch';
import { applyEvent } from './apply-event';
import type { RunnerDependencies } from './runner-dependencies';
import type { DeadLetterSender } from './dead-letter-sender';
import { countResults } from './event-metrics';
import type { EventResult, InboundEvent } from './events';
import { Lanes } from './lanes';
import { type PrepareDependencies, prepareMessage } from './prepare-message';
import { isPermanent, MESSAGE_RETRY, withRetry } from './retry';
import type { ApplyWork, SliceTrace } from './trace-hooks';
import type { InboundHandler } from './topic-handler';

export class SliceHandler {
  private readonly lanes: Lanes<InboundEvent, EventResult>;
  private readonly applyAlone: ApplyWork<[log: Logger, keepAlive: () => void]>;
  private readonly prepareDeps: PrepareDependencies;

  constructor(
    private readonly deps: RunnerDependencies,
    private readonly byTopic: ReadonlyMap<string, InboundHandler>,
    private readonly deadLetters: DeadLetterSender,
    eventsPerGroupMax: number,
  ) {
    this.prepareDeps = { codec: deps.codec, metrics: deps.metrics, deadLetters };
    this.lanes = new Lanes<InboundEvent, EventResult>(
      eventsPerGroupMax,
      deps.tracing.aroundApply((events, heartbeat: () => void) =>
        this.applyGroup(events, heartbeat),
      ),
    );
    this.applyAlone = deps.tracing.aroundApply((events, log: Logger, keepAlive: () => void) =>
      this.applyEventAlone(events[0]!, log, keepAlive),
    );
  }

  async handle(
    topic: string,
    partition: number,
    messages: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
    trace: SliceTrace,
  ): Promise<void> {
    const handler = this.byTopic.get(topic)!;
    const { metrics } = this.deps;
    const labels = { topic: handler.topic };
    const started = process.hrtime.bigint();
    const log = this.deps.log.child({ topic, partition });
    const events: InboundEvent[] = [];
    // The messages that became events; the others are already dead-lettered.
    const valid: KafkaMessage[] = [];
    metrics.eventsConsumed.inc(labels, messages.length);
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      const event = await prepareMessage(
        this.prepareDeps,
        {
          handler,
          topic,
          partition,
          message,
          traceparent: trace.traceparent(index, message),
          tracestate: trace.tracestate(index, message),
        },
        heartbeat,
        log,
      );
      if (event) {
        events.push(event);
        valid.push(message);
      } else trace.deadLettered(index);
    }
    if (events.length === 0) return;

    let results: EventResult[];
    try {
      results = await this.lanes.submit(
        partition,
        events,
        () => void heartbeat().catch(() => undefined),
      );
    } catch (error) {
      // Transient and still failing: nothing committed; KafkaJS redelivers from the last resolved offset.
      if (!isPermanent(error)) throw error;
      log.warn(
        { err: error, events: events.length, firstOffset: messages[0]!.offset },
        'batch could not be applied in bulk; applying its events one at a time',
      );
      metrics.batchFallbacks.inc(labels);
      // In the lane, so that the one-event transactions never overlap the lane's next group.
      await this.lanes.exclusive(partition, async () => {
        for (const [index, event] of events.entries())
          await this.applyOne(topic, partition, valid[index]!, event, heartbeat);
      });
      return;
    }
    if (events.some((event) => event.command.eventId === this.deps.crashAfterCommitOf))
      process.kill(process.pid, 'SIGKILL');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const processing = metrics.processingSeconds.labels(labels);
    // One line per event at info; below info its fields are not even gathered.
    const logEach = log.isLevelEnabled('info');
    countResults(metrics, handler.topic, results);
    for (const [index, result] of results.entries()) {
      processing.observe(seconds);
      if (!logEach) continue;
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
   * One group's transaction (see lanes.ts): one Redlock lock over all
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
      const [result] = (await this.applyAlone([event], eventLog, keepAlive)) as [EventResult];
      if (command.eventId === this.deps.crashAfterCommitOf) process.kill(process.pid, 'SIGKILL');
      countResults(this.deps.metrics, event.topic, [result]);
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

  /** One event's own transaction (applyEvent), transient failures retried. */
  private async applyEventAlone(
    event: InboundEvent,
    log: Logger,
    keepAlive: () => void,
  ): Promise<EventResult[]> {
    const result = await withRetry(() => applyEvent(this.deps.db, this.deps.settings, event), {
      ...MESSAGE_RETRY,
      onRetry: (error, attempt) => {
        keepAlive();
        this.deps.metrics.transientRetries.inc({ stage: 'apply' });
        log.warn({ err: error, attempt }, 'transient failure; retrying');
      },
    });
    return [result];
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
