/**
 * Reads what the worker published, as a downstream service would: payouts,
 * refunds and events, deduplicated by the `outcome-id` header. For each
 * outcome it keeps the inbound event that caused it (the `cause-event-id`
 * header, or the record's causeEventId when a message lacks the header) and
 * the message's Kafka timestamp, which the relay's producer sets when it
 * publishes: the end of that event's end-to-end latency. Each payout and
 * refund request is decoded and handed to `onRequest` (the settlements that
 * answer them, feedback.ts) before the reader moves past it, so once the
 * reader has caught up every request read has been answered or queued.
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import { outcomeTopics } from '../demo/outcome-listener';
import type { PublishedRequest } from './settlement-plan';

const requestTopics: ReadonlySet<string> = new Set(['escrow.payouts.v1', 'escrow.refunds.v1']);

export class OutcomeReader {
  private readonly consumer: Consumer;
  /** eventId → when its last outcome was published (ms since the epoch). */
  readonly publishedAt = new Map<string, number>();
  private readonly seen = new Set<string>();
  /** `${topic}/${partition}` → the next offset to read. */
  private readonly positions = new Map<string, bigint>();
  private readonly byPrefixed: Map<string, (typeof outcomeTopics)[number]>;
  redeliveries = 0;
  lastPublishedAt = 0;
  readonly problems: string[] = [];

  constructor(
    kafka: Kafka,
    private readonly codec: RegistryCodec,
    private readonly topicPrefix: string,
    groupId: string,
    private readonly onRequest: (request: PublishedRequest) => void = () => undefined,
  ) {
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    this.byPrefixed = new Map(outcomeTopics.map((topic) => [topicPrefix + topic, topic]));
  }

  get outcomes(): number {
    return this.seen.size;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.byPrefixed.keys()], fromBeginning: true });
    await this.consumer.run({
      eachBatch: async (payload) => {
        const { batch } = payload;
        for (const message of batch.messages) {
          await this.read(batch.topic, message);
          payload.resolveOffset(message.offset);
        }
        this.positions.set(`${batch.topic}/${batch.partition}`, BigInt(batch.lastOffset()) + 1n);
        await payload.heartbeat();
      },
    });
  }

  private async read(
    prefixed: string,
    message: {
      offset: string;
      timestamp: string;
      value: Buffer | null;
      headers?: Record<string, unknown>;
    },
  ): Promise<void> {
    const header = (name: string) => {
      const raw = message.headers?.[name];
      return Buffer.isBuffer(raw) ? raw.toString() : typeof raw === 'string' ? raw : undefined;
    };
    const outcomeId = header('outcome-id');
    if (outcomeId === undefined) {
      this.problems.push(`${prefixed} offset ${message.offset} has no outcome-id header`);
      return;
    }
    // At-least-once publishing may send an outcome twice; downstream drops the copy.
    if (this.seen.has(outcomeId)) {
      this.redeliveries++;
      return;
    }
    this.seen.add(outcomeId);
    const topic = this.byPrefixed.get(prefixed)!;
    let cause = header('cause-event-id');
    if (cause === undefined || requestTopics.has(topic)) {
      const decoded = await this.codec.decode(topic, message.value);
      if (!decoded.ok) {
        this.problems.push(`${prefixed} offset ${message.offset}: ${decoded.reason}`);
        return;
      }
      cause ??= (decoded.value as { causeEventId?: string }).causeEventId;
      if (requestTopics.has(topic)) this.onRequest(decoded.value as PublishedRequest);
    }
    const at = Number(message.timestamp);
    this.lastPublishedAt = Math.max(this.lastPublishedAt, at);
    if (cause !== undefined)
      this.publishedAt.set(cause, Math.max(this.publishedAt.get(cause) ?? 0, at));
  }

  /** True once every outcome topic has been read up to its current end. */
  async caughtUp(admin: Admin): Promise<boolean> {
    for (const prefixed of this.byPrefixed.keys()) {
      for (const { partition, high } of await admin.fetchTopicOffsets(prefixed)) {
        const at = this.positions.get(`${prefixed}/${partition}`) ?? 0n;
        if (at < BigInt(high)) return false;
      }
    }
    return true;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
