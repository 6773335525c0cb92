/**
 * A fetched message made an event: decoded through the schema registry
 * (transient registry failures retried) and validated by its topic's
 * consumer. One that cannot be decoded or is invalid is dead-lettered here,
 * with its reason, and yields nothing; the worker goes on.
 */
import type { KafkaMessage } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import type { Logger } from '../logging/logger';
import type { WorkerMetrics } from '../ops/metrics';
import type { InboundEvent } from './events';
import type { DeadLetterSender } from './dead-letter-sender';
import { MESSAGE_RETRY, withRetry } from './retry';
import type { InboundHandler } from './topic-handler';

export interface PrepareDependencies {
  readonly codec: RegistryCodec;
  readonly metrics: WorkerMetrics;
  readonly deadLetters: DeadLetterSender;
}

export interface FetchedMessage {
  readonly handler: InboundHandler;
  /** The topic as read, prefixed. */
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
  /** The trace context its event carries (trace-hooks.ts), if any. */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

export async function prepareMessage(
  deps: PrepareDependencies,
  fetched: FetchedMessage,
  heartbeat: () => Promise<void>,
  log: Logger,
): Promise<InboundEvent | undefined> {
  const { handler, message } = fetched;
  // A schema already looked up decodes at once; only a lookup is retried.
  const decoded =
    deps.codec.decodeKnown(handler.topic, message.value) ??
    (await withRetry(() => deps.codec.decode(handler.topic, message.value), {
      ...MESSAGE_RETRY,
      onRetry: (error) => {
        void heartbeat().catch(() => undefined);
        deps.metrics.transientRetries.inc({ stage: 'decode' });
        log.warn({ err: error, offset: message.offset }, 'schema registry unavailable; retrying');
      },
    }));
  if (!decoded.ok) return deadLetter(deps, fetched, decoded.reason, 'UNDECODABLE', log);
  const parsed = handler.parse(decoded.value);
  if (!parsed.ok) return deadLetter(deps, fetched, parsed.reason, 'INVALID', log);
  return {
    topic: handler.topic,
    partition: fetched.partition,
    offset: message.offset,
    occurredAt: parsed.occurredAt,
    command: parsed.command,
    traceparent: fetched.traceparent,
    tracestate: fetched.tracestate,
  };
}

async function deadLetter(
  deps: PrepareDependencies,
  { topic, partition, message }: FetchedMessage,
  reason: string,
  category: 'UNDECODABLE' | 'INVALID',
  log: Logger,
): Promise<undefined> {
  await deps.deadLetters.send(
    { topic, partition, message },
    reason,
    category,
    log.child({ offset: message.offset }),
  );
  return undefined;
}
