/**
 * The machinery under the story: a real worker started in-process, one
 * producer that plays every upstream service through the schema registry,
 * the outcome listener, and the waits that tell when the worker has finished
 * a step. Waiting is on facts, never on a fixed sleep: the worker's committed
 * consumer offsets (committed only after the database commit, so they cover
 * a duplicate that leaves no row), the database, and the outcomes read back
 * from Kafka. Every wait is bounded and says what did not happen.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Knex } from 'knex';
import { RegistryCodec } from '../codec/registry-codec';
import { inboundTopics } from '../codec/schemas';
import { createKnex } from '../db/knex';
import { createKafka, createProducer } from '../kafka/client';
import type { Logger } from '../logging/logger';
import { startWorker } from '../worker';
import type { DemoEnvironment } from './environment';
import type { InboundMessage } from './inbound-events';
import { OutcomeListener, type PublishedOutcome } from './outcome-listener';

export interface SentMessage {
  readonly message: InboundMessage;
  readonly partition: number;
  readonly offset: string;
}

/** Long enough for a slow first group join on a busy machine; a healthy step takes well under 1 s. */
const stepTimeoutMs = 30_000;

export class DemoRun {
  readonly db: Knex;
  readonly kafka: Kafka;
  private readonly codec: RegistryCodec;
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly listener: OutcomeListener;
  private readonly closers: (() => Promise<void>)[] = [];
  /** Outcomes already shown, and the eventIds sent so far (the causes of what is to show). */
  private readonly shown = new Set<string>();
  private readonly sentEventIds = new Set<string>();

  constructor(
    readonly environment: DemoEnvironment,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    readonly orderIds: ReadonlySet<string>,
  ) {
    const { config } = environment;
    this.db = createKnex(config, { poolMax: 3 });
    this.kafka = createKafka(config, 'escrow-demo', log);
    this.codec = RegistryCodec.fromConfig(config);
    this.producer = createProducer(this.kafka);
    this.admin = this.kafka.admin();
    this.listener = new OutcomeListener(
      this.kafka,
      this.codec,
      config.TOPIC_PREFIX,
      environment.outcomeGroup,
      orderIds,
    );
  }

  /** Starts everything; what started is stopped by stop(), even when a later part failed. */
  async start(): Promise<void> {
    const worker = await startWorker(this.environment.config, this.log);
    this.closers.push(() => worker.stop());
    // The worker registered every schema; this gives the producer their ids.
    await this.codec.registerSchemas(inboundTopics);
    await this.producer.connect();
    this.closers.push(() => this.producer.disconnect());
    await this.admin.connect();
    this.closers.push(() => this.admin.disconnect());
    this.closers.push(() => this.listener.stop());
    await this.listener.start();
  }

  async stop(): Promise<void> {
    const failures: string[] = [];
    for (const close of this.closers.splice(0).reverse()) {
      await close().catch((error: unknown) => failures.push((error as Error).message));
    }
    await this.db.destroy();
    if (failures.length > 0) throw new Error(`stopping the demo: ${failures.join('; ')}`);
  }

  async send(message: InboundMessage): Promise<SentMessage> {
    const value = await this.codec.encode(message.topic, message.value);
    const [record] = await this.producer.send({
      topic: this.environment.config.TOPIC_PREFIX + message.topic,
      acks: -1,
      messages: [{ key: message.orderId, value }],
    });
    if (record?.baseOffset === undefined) {
      throw new Error(`the broker did not acknowledge ${message.label} with an offset`);
    }
    this.sentEventIds.add(message.eventId);
    return { message, partition: record.partition, offset: record.baseOffset };
  }

  /** Polls until `check` holds; fails naming `what` after the step timeout or on Ctrl-C. */
  async waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + stepTimeoutMs;
    while (!(await check())) {
      if (this.signal.aborted) throw new Error(`interrupted while waiting for ${what}`);
      if (Date.now() > deadline) {
        throw new Error(
          `${what} did not happen within ${stepTimeoutMs / 1000} s. ` +
            'Check `npm run services:status`, and rerun with --verbose to see the worker log.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Until the worker has committed the offset of every message sent, i.e. finished them. */
  async waitProcessed(sent: readonly SentMessage[]): Promise<void> {
    if (sent.length === 0) return;
    const prefixed = (item: SentMessage) =>
      this.environment.config.TOPIC_PREFIX + item.message.topic;
    const topics = [...new Set(sent.map(prefixed))];
    await this.waitFor(
      async () => {
        const committed = await this.admin.fetchOffsets({
          groupId: this.environment.config.CONSUMER_GROUP,
          topics,
        });
        return sent.every((item) => {
          const partition = committed
            .find((topic) => topic.topic === prefixed(item))
            ?.partitions.find((candidate) => candidate.partition === item.partition);
          // The committed offset is the next one to read.
          return partition !== undefined && BigInt(partition.offset) > BigInt(item.offset);
        });
      },
      `the worker finishing ${sent.map((item) => item.message.label).join(', ')}`,
    );
  }

  /** What the inbox says the worker did with a message; a retried payment has no row of its own. */
  async verdict(sent: SentMessage): Promise<string> {
    const row = await this.db('inbox')
      .where({ event_id: sent.message.eventId })
      .whereNot('dedupe_key', 'like', 'conflict:%')
      .first<{ outcome: string; reason: string | null } | undefined>('outcome', 'reason');
    if (row) return row.reason === null ? row.outcome : `${row.outcome} ${row.reason}`;
    if (sent.message.topic !== 'escrow.payment-confirmed.v1') return 'no inbox row';
    const { gateway, gatewayReference } = sent.message.value;
    const first = await this.db('payments')
      .where({ gateway, gateway_reference: gatewayReference })
      .first<{ event_id: string } | undefined>('event_id');
    return first
      ? `DUPLICATE of ${first.event_id} (same gateway reference): no second effect`
      : 'no inbox row';
  }

  /**
   * The outcomes not shown yet that the messages sent so far caused (all of
   * them when `anyCause`, for work the worker starts itself, such as the
   * timer's release), once the listener has read each back from Kafka.
   */
  async newOutcomes(anyCause: boolean): Promise<PublishedOutcome[]> {
    const rows = await this.db('outbox')
      .whereIn('message_key', [...this.orderIds])
      .orderBy('outbox_id')
      .select<{ outcome_id: string; type: string; cause: string }[]>(
        'outcome_id',
        'type',
        this.db.raw(`payload->>'causeEventId' AS cause`),
      );
    const due = rows.filter(
      (row) => !this.shown.has(row.outcome_id) && (anyCause || this.sentEventIds.has(row.cause)),
    );
    await this.waitFor(
      async () => {
        if (this.listener.unreadable.length > 0) {
          throw new Error(
            `published outcomes could not be read: ${this.listener.unreadable.join('; ')}`,
          );
        }
        return Promise.resolve(due.every((row) => this.listener.get(row.outcome_id) !== undefined));
      },
      `the outbox relay publishing ${due.map((row) => row.type).join(', ')}`,
    );
    for (const row of due) this.shown.add(row.outcome_id);
    return due.map((row) => this.listener.get(row.outcome_id)!);
  }
}
