/**
 * The outbox relay: publishes committed outbox rows to Kafka and marks them
 * published. At-least-once: a crash after the send and before the mark sends
 * the rows again, with the same `outcome-id` header, which consumers dedupe on.
 *
 * One relay publishes per database at a time: it holds a session-level
 * advisory lock on a dedicated connection, and reads and marks the rows on
 * that connection; other workers' relays stand by and take over when that
 * connection dies. That, with rows read in outbox_id order
 * and sent by one idempotent producer one batch at a time, keeps the order per
 * key: every transaction of one order runs under that order's lock, so a later
 * outcome of an order always has a higher outbox_id than an earlier one.
 *
 * It wakes on NOTIFY escrow_outbox (sent at commit by the slice's write, src/pipeline/batch-write.ts) and polls
 * as a backstop; it prunes published rows older than the retention period.
 *
 * Each row's headers go on its message as they were written: `outcome-id`,
 * `cause-event-id`, and the cause's W3C `traceparent` and `tracestate`
 * (src/pipeline/outbox.ts), which a consumer's span continues. The relay
 * makes no span of its own: a batch mixes the traces of many events.
 */
import type { Knex } from 'knex';
import type { Message, Producer } from 'kafkajs';
import { Client } from 'pg';
import type { RegistryCodec } from '../codec/registry-codec';
import type { OutboundTopic } from '../codec/schemas';

/** How long a relay woken while busy waits for more commits before its next batch. */
const LINGER_MS = 5;
const RELAY_LOCK_KEY = 0x0e5c0701; // advisory lock id: "escrow outbox relay"

export interface RelayOptions {
  databaseUrl: string;
  topicPrefix: string;
  batchSize?: number;
  pollIntervalMs?: number;
  retentionHours?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Called after a batch is marked published, with its topic (unprefixed) per row. */
  onPublished?: (topics: readonly string[]) => void;
}

interface OutboxRow {
  outbox_id: string;
  topic: string;
  message_key: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
}

export class OutboxRelay {
  private session: Client | undefined;
  private running = false;
  private active = false;
  private refusals = 0;
  private wake: (() => void) | undefined;
  /**
   * Set by a notification, cleared before each read of the outbox: one that
   * arrives while a batch is being published (no sleep to wake) is not lost,
   * and the next sleep returns at once instead of waiting for the poll.
   */
  private notified = false;
  private loop: Promise<void> | undefined;
  private lastPrune = 0;

  constructor(
    private readonly db: Knex,
    private readonly producer: Producer,
    private readonly codec: RegistryCodec,
    private readonly options: RelayOptions,
  ) {}

  /** True while this relay holds the lock and publishes. */
  get isActive(): boolean {
    return this.active;
  }

  /** How often this relay asked for the lock and was refused (another relay holds it). */
  get lockRefusals(): number {
    return this.refusals;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /**
   * Publishes what is unpublished now; returns how many rows it sent. Only
   * while active. Rows are read and marked on the session that holds the
   * lock: the lock is session-level and nothing here unlocks it, so a read
   * that succeeds proves it is still ours, without a round trip of its own.
   * A session dropped by the network has freed the lock on the server (a
   * standby may publish already), and then the read fails instead.
   */
  private async publishPending(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const session = this.session;
      if (!this.active || !session) return total;
      this.notified = false;
      const { rows } = await session.query<OutboxRow>({
        name: 'escrow_relay_pending',
        text: `SELECT outbox_id, topic, message_key, payload, headers FROM outbox
               WHERE published_at IS NULL ORDER BY outbox_id LIMIT $1`,
        values: [batchSize],
      });
      if (rows.length === 0) return total;
      const topics = rows.map(
        (row) => row.topic.slice(this.options.topicPrefix.length) as OutboundTopic,
      );
      await this.send(rows, topics);
      // One array parameter, not one per row: a fixed statement, prepared once.
      await session.query({
        name: 'escrow_relay_mark_published',
        text: `UPDATE outbox SET published_at = now() WHERE outbox_id = ANY($1::bigint[])`,
        values: [rows.map((row) => row.outbox_id)],
      });
      total += rows.length;
      this.options.onPublished?.(topics);
      // A short batch was all there was: what commits meanwhile comes with its notification.
      if (rows.length < batchSize) return total;
    }
  }

  /** Sends a batch and waits for every replica's ack; `topics` are the rows' unprefixed topics. */
  private async send(rows: readonly OutboxRow[], topics: readonly OutboundTopic[]): Promise<void> {
    const values = this.codec.encodeAll(
      rows.map((row, index) => ({ topic: topics[index]!, value: row.payload })),
    );
    // One entry per topic, its messages in row order (so per key too). Not one
    // entry per run of rows of a topic: KafkaJS merges entries of one topic by
    // copying the messages so far at every merge, quadratic in the batch.
    const byTopic = new Map<string, Message[]>();
    rows.forEach((row, index) => {
      let messages = byTopic.get(row.topic);
      if (!messages) byTopic.set(row.topic, (messages = []));
      messages.push({ key: row.message_key, value: values[index]!, headers: row.headers });
    });
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.active) await this.tryBecomeActive();
        if (this.active) {
          await this.publishPending();
          await this.pruneIfDue();
        }
      } catch (error) {
        this.options.log?.('outbox relay failed; retrying', { error: (error as Error).message });
        this.notified = false; // back off for the full pause after a failure
        await this.dropSession();
      }
      await this.sleep(this.active ? (this.options.pollIntervalMs ?? 1000) : 2000);
    }
    await this.dropSession();
  }

  private async tryBecomeActive(): Promise<void> {
    const session = new Client({
      connectionString: this.options.databaseUrl,
      application_name: 'escrow-outbox-relay',
    });
    session.on('error', () => {
      // The lock dies with the connection: stand down and try again.
      this.active = false;
    });
    await session.connect();
    const { rows } = await session.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [RELAY_LOCK_KEY],
    );
    if (!rows[0]?.locked) {
      this.refusals += 1;
      await session.end();
      return;
    }
    session.on('notification', () => {
      this.notified = true;
      this.wake?.();
    });
    await session.query('LISTEN escrow_outbox');
    this.session = session;
    this.active = true;
    this.options.log?.('outbox relay active');
  }

  private async dropSession(): Promise<void> {
    this.active = false;
    const session = this.session;
    this.session = undefined;
    // Closing the session releases the advisory lock for a standby relay.
    await session?.end().catch(() => undefined);
  }

  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    const hours = this.options.retentionHours ?? 24 * 7;
    await this.db('outbox')
      .whereNotNull('published_at')
      .andWhere('published_at', '<', this.db.raw(`now() - make_interval(hours => ?)`, [hours]))
      .delete();
  }

  /**
   * Until the next notification (or `ms`). A notification that came while
   * publishing is answered after LINGER_MS rather than at once: at a steady
   * rate every commit notifies, and gathering a few milliseconds of commits
   * into one batch costs far less (one read, one produce request, one mark)
   * than a batch per commit, for at most that much latency.
   */
  private sleep(ms: number): Promise<void> {
    if (this.notified && this.running)
      return new Promise((resolve) => setTimeout(resolve, LINGER_MS));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
