/**
 * Reads what the worker published, as a downstream consumer would: the
 * payouts, refunds and events topics, decoded through the schema registry,
 * keyed by the `outcome-id` header (which is also how real consumers drop
 * the duplicates at-least-once publishing may send). Started once, before
 * the first message is sent, and kept running for the whole story.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import type { OutboundTopic } from '../codec/schemas';

export const outcomeTopics = [
  'escrow.payouts.v1',
  'escrow.refunds.v1',
  'escrow.events.v1',
] as const satisfies readonly OutboundTopic[];

export interface PublishedOutcome {
  /** Without the deployment's prefix. */
  readonly topic: (typeof outcomeTopics)[number];
  readonly outcomeId: string;
  readonly value: Readonly<Record<string, unknown>>;
}

export class OutcomeListener {
  private readonly consumer: Consumer;
  private readonly received = new Map<string, PublishedOutcome>();
  private readonly problems: string[] = [];

  constructor(
    kafka: Kafka,
    private readonly codec: RegistryCodec,
    private readonly topicPrefix: string,
    groupId: string,
    /** Only these orders' outcomes are kept: a shared prefix may carry others. */
    private readonly orderIds: ReadonlySet<string>,
  ) {
    // Leaving the group waits for the fetch in flight: a short one keeps the demo's end quick.
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
  }

  async start(): Promise<void> {
    const byPrefixed = new Map(outcomeTopics.map((topic) => [this.topicPrefix + topic, topic]));
    await this.consumer.connect();
    // From the beginning: a new group starting "at the end" could resolve that end
    // after the first outcomes arrived. Older outcomes of other orders are skipped by key.
    await this.consumer.subscribe({ topics: [...byPrefixed.keys()], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic: prefixed, message }) => {
        const topic = byPrefixed.get(prefixed);
        const key = message.key?.toString();
        if (topic === undefined || key === undefined || !this.orderIds.has(key)) return;
        const outcomeId = message.headers?.['outcome-id']?.toString();
        const decoded = await this.codec.decode(topic, message.value);
        if (!decoded.ok || outcomeId === undefined) {
          this.problems.push(
            `${prefixed} offset ${message.offset}: ` +
              (decoded.ok ? 'no outcome-id header' : decoded.reason),
          );
          return;
        }
        this.received.set(outcomeId, {
          topic,
          outcomeId,
          value: decoded.value as Record<string, unknown>,
        });
      },
    });
  }

  /** The outcome published under this id, once it has been read. */
  get(outcomeId: string): PublishedOutcome | undefined {
    return this.received.get(outcomeId);
  }

  /** Messages of the demo's orders that could not be read: each one is a defect to report. */
  get unreadable(): readonly string[] {
    return this.problems;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
