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
 * What it sends is decided by the database alone: each batch reads the ids
 * of the first unpublished rows, in outbox_id order. Their content comes from
 * memory when this process committed them (the pipeline hands every
 * committed slice's rows to `offer`), and from the table otherwise (another
 * instance's commits, rows offered while the relay stood by or was full, a
 * restart). Reading a row back costs Postgres its jsonb payload turned to
 * text and the worker that text parsed back; the order, the marking and
 * every row's bytes are the same either way, since the row in memory is the
 * object the table's JSON was written from.
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
import { arrayLiteral } from '../db/columns';

/** How long a relay woken while busy waits for more commits before its next batch. */
const LINGER_MS = 5;
const RELAY_LOCK_KEY = 0x0e5c0701; // advisory lock id: "escrow outbox relay"
/**
 * Offered rows held at most: beyond it an offer is declined and its rows are
 * read from the table. A relay keeps up with its worker, so this is reached
 * only when Kafka stalls; it bounds the memory held meanwhile (a row is about
 * 2 KB as objects).
 */
export const MAX_OFFERED_ROWS = 10_000;

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

/** A row's content, as the table holds it and as the pipeline offers it (src/pipeline/outbox.ts). */
export interface RelayRow {
  readonly outcome_id: string;
  readonly topic: string;
  readonly message_key: string;
  readonly payload: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

interface Pending {
  outbox_id: string;
  outcome_id: string;
}

interface Offered {
  readonly row: RelayRow;
  /** How many reads of the outbox had started when it was offered (see forgetPublished). */
  readonly readsBefore: number;
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
  /** Rows this process committed and has not seen published, by outcome id. */
  private readonly offered = new Map<string, Offered>();
  private reads = 0;

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

  /** Offered rows held now (for tests). */
  get offeredRows(): number {
    return this.offered.size;
  }

  /**
   * Rows this process has just committed, so that they need not be read
   * back. Only while active (a standby's rows are published by the active
   * relay, which reads them), and only up to MAX_OFFERED_ROWS. Declining is
   * always safe: a row not in memory is read from the table.
   */
  offer(rows: readonly RelayRow[]): void {
    if (!this.active || this.offered.size + rows.length > MAX_OFFERED_ROWS) return;
    for (const row of rows) this.offered.set(row.outcome_id, { row, readsBefore: this.reads });
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
      const read = ++this.reads;
      const { rows: pending } = await session.query<Pending>({
        name: 'escrow_relay_pending',
        text: `SELECT outbox_id, outcome_id FROM outbox
               WHERE published_at IS NULL ORDER BY outbox_id LIMIT $1`,
        values: [batchSize],
      });
      if (pending.length < batchSize) this.forgetPublished(pending, read);
      if (pending.length === 0) return total;
      const rows = await this.contentOf(session, pending);
      const topics = rows.map(
        (row) => row.topic.slice(this.options.topicPrefix.length) as OutboundTopic,
      );
      await this.send(rows, topics);
      // One array parameter, not one per row: a fixed statement, prepared once
      // (its literal written by arrayLiteral: pg's own escaping allocated per id).
      await session.query({
        name: 'escrow_relay_mark_published',
        text: `UPDATE outbox SET published_at = now() WHERE outbox_id = ANY($1::bigint[])`,
        values: [arrayLiteral(pending.map((row) => row.outbox_id))],
      });
      for (const { outcome_id } of pending) this.offered.delete(outcome_id);
      total += rows.length;
      this.options.onPublished?.(topics);
      // A short batch was all there was: what commits meanwhile comes with its notification.
      if (pending.length < batchSize) return total;
    }
  }

  /** The pending rows' content in their order: offered rows from memory, the others read on `session`. */
  private async contentOf(session: Client, pending: readonly Pending[]): Promise<RelayRow[]> {
    const missing = pending.filter(({ outcome_id }) => !this.offered.has(outcome_id));
    const read = new Map<string, RelayRow>();
    if (missing.length > 0) {
      const { rows } = await session.query<RelayRow & { outbox_id: string }>({
        name: 'escrow_relay_rows',
        text: `SELECT outbox_id, outcome_id, topic, message_key, payload, headers FROM outbox
               WHERE outbox_id = ANY($1::bigint[])`,
        values: [arrayLiteral(missing.map((row) => row.outbox_id))],
      });
      for (const row of rows) read.set(row.outbox_id, row);
    }
    return pending.map(({ outbox_id, outcome_id }) => {
      const row = this.offered.get(outcome_id)?.row ?? read.get(outbox_id);
      // Rows are deleted only once published, which needs this relay's lock.
      if (row === undefined) throw new Error(`outbox row ${outbox_id} vanished while unpublished`);
      return row;
    });
  }

  /**
   * After a read that saw every unpublished row: an offered row that read
   * did not see, though offered before it started, was published already
   * (by a relay that held the lock before this one took it back), so it is
   * dropped. One offered after the read started may simply be newer than
   * the read, and is kept.
   */
  private forgetPublished(pending: readonly Pending[], read: number): void {
    const seen = new Set(pending.map((row) => row.outcome_id));
    for (const [outcomeId, { readsBefore }] of this.offered) {
      if (readsBefore < read && !seen.has(outcomeId)) this.offered.delete(outcomeId);
    }
  }

  /** Sends a batch and waits for every replica's ack; `topics` are the rows' unprefixed topics. */
  private async send(rows: readonly RelayRow[], topics: readonly OutboundTopic[]): Promise<void> {
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
      // The lock dies with the connection: stand down and try again. Another
      // relay may publish meanwhile, so what was offered may be stale.
      this.active = false;
      this.offered.clear();
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
    // Another relay publishes from now on, reading them from the table.
    this.offered.clear();
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
