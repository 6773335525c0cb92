/**
 * Sends a message that cannot be processed to escrow.dlq.v1, and makes sure a
 * failure to do so never stops the consumer.
 *
 * KafkaJS gives up on its consumer for good, without restarting it, when a
 * message handler throws an error it marks not retriable, and a broker's
 * refusal (MESSAGE_TOO_LARGE, an authorization error, ...) is one. So:
 * - the record is sized to fit (dead-letter-record.ts), and if the DLQ topic
 *   still refuses it as too large (its own max.message.bytes may be lower),
 *   it is sent again without the original value: retrying the same record
 *   can never succeed;
 * - any other failure is retried with backoff here, and if it persists it
 *   leaves as DeadLetterUnavailable, a transient error: the message is not
 *   committed, and KafkaJS retries, restarts the consumer and delivers it
 *   again, as for a database that is down.
 */
import type { Producer } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import { DLQ_TOPIC } from '../messages/dead-letter';
import type { Logger } from '../logging/logger';
import type { DeadLetterCategory, WorkerMetrics } from '../ops/metrics';
import { type DeadLetterSource, type FittedDeadLetter, fitDeadLetter } from './dead-letter-record';
import { MESSAGE_RETRY, type RetryOptions, withRetry } from './retry';

export type { DeadLetterSource };

/** The DLQ could not take a dead letter for now; the message stays uncommitted and comes again. */
export class DeadLetterUnavailable extends Error {
  readonly code = 'DEAD_LETTER_UNAVAILABLE';
  readonly retryable = true;

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'DeadLetterUnavailable';
  }
}

/** The broker refused the record for its size: final for this record, so not retried. */
class DeadLetterTooLarge extends Error {
  readonly retryable = false;

  constructor(
    readonly refusal: string,
    options: { cause: unknown },
  ) {
    super(refusal, options);
    this.name = 'DeadLetterTooLarge';
  }
}

// The broker's answers to a record or batch above max.message.bytes (or the segment size).
const SIZE_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** "MESSAGE_TOO_LARGE: <the broker's words>" when the error, or one it wraps, is a size refusal. */
export function sizeRefusal(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const { type, message, cause } = current as {
      type?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof type === 'string' && SIZE_ERRORS.has(type)) return `${type}: ${String(message)}`;
    current = cause;
  }
  return undefined;
}

export interface DeadLetterSenderDependencies {
  /** Idempotent (createProducer), connected by the caller. */
  readonly producer: Producer;
  readonly codec: RegistryCodec;
  readonly metrics: WorkerMetrics;
  readonly topicPrefix: string;
  readonly retry?: Omit<RetryOptions, 'onRetry'>;
}

export class DeadLetterSender {
  constructor(private readonly deps: DeadLetterSenderDependencies) {}

  /**
   * Dead-letters one message; resolves once the DLQ acknowledged it. Throws
   * only DeadLetterUnavailable (transient): the caller must not commit the message.
   */
  async send(
    source: DeadLetterSource,
    reason: string,
    category: DeadLetterCategory,
    log: Logger,
  ): Promise<void> {
    const now = new Date();
    let letter = fitDeadLetter(source, reason, { now });
    try {
      await this.publish(letter, log);
    } catch (error) {
      const refusal = sizeRefusal(error);
      if (refusal === undefined) throw this.unavailable(source, error);
      log.error(
        { err: error, valueBytes: source.message.value?.length ?? 0 },
        'the DLQ topic refused the dead letter as too large; sending it without the original value',
      );
      letter = fitDeadLetter(source, reason, { now, bare: { refusal } });
      try {
        await this.publish(letter, log);
      } catch (second) {
        throw this.unavailable(source, second);
      }
    }
    this.deps.metrics.eventsDeadLettered.inc({
      topic: source.topic.slice(this.deps.topicPrefix.length),
      reason: category,
    });
    log.warn(
      { reason: letter.record.reason, category, truncated: letter.truncated },
      'message dead-lettered',
    );
  }

  private async publish(letter: FittedDeadLetter, log: Logger): Promise<void> {
    const options = {
      ...(this.deps.retry ?? MESSAGE_RETRY),
      onRetry: (error: unknown, attempt: number) => {
        this.deps.metrics.transientRetries.inc({ stage: 'dead-letter' });
        log.warn({ err: error, attempt }, 'dead letter not sent yet; retrying');
      },
    };
    const value = await withRetry(() => this.deps.codec.encode(DLQ_TOPIC, letter.record), options);
    await withRetry(async () => {
      try {
        await this.deps.producer.send({
          topic: `${this.deps.topicPrefix}${DLQ_TOPIC}`,
          acks: -1,
          messages: [{ key: letter.record.originalKey, value, headers: letter.headers }],
        });
      } catch (error) {
        const refusal = sizeRefusal(error);
        if (refusal !== undefined) throw new DeadLetterTooLarge(refusal, { cause: error });
        throw error;
      }
    }, options);
  }

  private unavailable(source: DeadLetterSource, error: unknown): DeadLetterUnavailable {
    return new DeadLetterUnavailable(
      `the dead letter for ${source.topic} partition ${source.partition} offset ` +
        `${source.message.offset} could not be sent to ${this.deps.topicPrefix}${DLQ_TOPIC}: ` +
        `${(error as Error).message}; the message is not committed and will be delivered again`,
      { cause: error },
    );
  }
}
