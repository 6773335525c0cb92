/**
 * Plays the upstream services: the planned events, registry-encoded, through
 * one producer in batches, either as fast as the broker acknowledges them or
 * at a steady offered rate. Each message's timestamp is set here and kept
 * per eventId: it is where the end-to-end latency of that event starts.
 */
import type { Producer } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import type { InboundMessage } from '../demo/inbound-events';
import type { PlannedEvent } from './order-plan';

export interface Produced {
  /** eventId → the time it was handed to the broker (ms since the epoch). */
  readonly sentAt: ReadonlyMap<string, number>;
  readonly firstSentAt: number;
  readonly lastAckedAt: number;
}

export interface SendOptions {
  readonly producer: Producer;
  readonly codec: RegistryCodec;
  readonly topicPrefix: string;
}

export interface ProduceOptions extends SendOptions {
  /** Events per second; undefined: as fast as the broker takes them. */
  readonly rate: number | undefined;
  readonly signal: AbortSignal;
  readonly onBatch?: (sent: number) => void;
}

/** Large enough to amortize a round trip, small enough to keep one request well under 1 MB. */
const floodBatch = 500;
/** At a steady rate, what is due is sent every tick. */
const tickMs = 20;

export async function produceEvents(
  events: readonly PlannedEvent[],
  options: ProduceOptions,
): Promise<Produced> {
  const sentAt = new Map<string, number>();
  const startedAt = Date.now();
  let sent = 0;
  let firstSentAt: number | undefined;
  while (sent < events.length) {
    if (options.signal.aborted) throw new Error('interrupted while producing');
    let count = floodBatch;
    if (options.rate !== undefined) {
      const due = Math.floor(((Date.now() - startedAt) / 1000) * options.rate) - sent;
      if (due <= 0) {
        await new Promise((resolve) => setTimeout(resolve, tickMs));
        continue;
      }
      count = Math.min(due, 4 * floodBatch);
    }
    const batch = events.slice(sent, sent + count);
    const at = await sendBatch(batch, options, sentAt);
    firstSentAt ??= at;
    sent += batch.length;
    options.onBatch?.(sent);
  }
  return { sentAt, firstSentAt: firstSentAt ?? startedAt, lastAckedAt: Date.now() };
}

/** Sends the messages in one request; records when each was handed over; returns that time. */
export async function sendBatch(
  batch: readonly { readonly message: InboundMessage }[],
  options: SendOptions,
  sentAt: Map<string, number>,
): Promise<number> {
  const now = Date.now();
  const stamp = new Date(now).toISOString();
  // One request entry per topic; within it the events keep the stream's order.
  const topicMessages: {
    topic: string;
    messages: { key: string; value: Buffer; timestamp: string }[];
  }[] = [];
  for (const { message } of batch) {
    const timeField =
      message.topic === 'escrow.payment-confirmed.v1' ? 'confirmedAt' : 'occurredAt';
    const value = await options.codec.encode(message.topic, {
      ...message.value,
      [timeField]: stamp,
    });
    const topic = options.topicPrefix + message.topic;
    const entry = topicMessages.find((candidate) => candidate.topic === topic);
    const record = { key: message.orderId, value, timestamp: String(now) };
    if (entry) entry.messages.push(record);
    else topicMessages.push({ topic, messages: [record] });
    sentAt.set(message.eventId, now);
  }
  await options.producer.sendBatch({ acks: -1, topicMessages });
  return now;
}
