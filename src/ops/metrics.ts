/**
 * The worker's Prometheus metrics, on a registry of its own (two workers in one
 * process, as in tests, never share counters). Counters and histograms are
 * updated where things happen (the consumer runner, the relay); the gauges
 * that describe shared state (consumer lag, outbox backlog) are read when
 * Prometheus scrapes, so they are true for the whole group, not just for this
 * instance's share of it.
 *
 * Label values stay few: topics without TOPIC_PREFIX, rejection reasons from
 * the contract's list, dead-letter reasons as categories (UNDECODABLE,
 * INVALID, PROCESSING_FAILED); the free-text reason is in the DLQ record and
 * the log, not in a label.
 */
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type DeadLetterCategory = 'UNDECODABLE' | 'INVALID' | 'PROCESSING_FAILED';

/** Shared state the scrape reads: each returns rows of (labels, value). */
export interface ScrapeSources {
  /** Committed consumer-group lag per inbound topic and partition. */
  consumerLag(): Promise<{ topic: string; partition: number; lag: number }[]>;
  /** Unpublished outbox rows, and the age in seconds of the oldest (0 when none). */
  outboxBacklog(): Promise<{ rows: number; oldestAgeSeconds: number }>;
  /** 1 when this instance's relay holds the relay lock and publishes. */
  relayActive(): number;
}

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly eventsConsumed: Counter<'topic'>;
  readonly eventsApplied: Counter<'topic'>;
  readonly eventsKept: Counter<'topic'>;
  readonly eventsUnchanged: Counter<'topic'>;
  readonly duplicatesAbsorbed: Counter<'topic'>;
  readonly eventsRejected: Counter<'topic' | 'reason'>;
  readonly eventsDeadLettered: Counter<'topic' | 'reason'>;
  readonly processingSeconds: Histogram<'topic'>;
  readonly transientRetries: Counter<'stage'>;
  readonly batchFallbacks: Counter<'topic'>;
  readonly lockWaitSeconds: Histogram;
  readonly lockFailures: Counter<'reason'>;
  readonly ledgerTransactionsPosted: Counter;
  readonly outcomesPublished: Counter<'topic'>;
}

// Settings with a bounded wait: a scrape must answer even when Kafka or Postgres do not.
const SCRAPE_TIMEOUT_MS = 2000;

function withinScrapeTimeout<T>(work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no answer within 2s')), SCRAPE_TIMEOUT_MS).unref(),
    ),
  ]);
}

export function createMetrics(sources: ScrapeSources): WorkerMetrics {
  const registry = new Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'escrow_worker_' });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });

  const scrapeErrors = counter(
    'escrow_metrics_scrape_errors_total',
    'Scrapes in which a shared-state gauge could not be read (the gauge is left out).',
    ['source'],
  );

  new Gauge({
    name: 'escrow_consumer_lag_messages',
    help: 'Messages in an inbound partition after the consumer group committed offset.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const row of await withinScrapeTimeout(sources.consumerLag())) {
          this.set({ topic: row.topic, partition: String(row.partition) }, row.lag);
        }
      } catch {
        scrapeErrors.inc({ source: 'consumer_lag' });
      }
    },
  });

  const outboxOldest = new Gauge({
    name: 'escrow_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest outbox row not yet published (0 when the outbox is drained).',
    registers: [registry],
  });
  new Gauge({
    name: 'escrow_outbox_backlog_rows',
    help: 'Outbox rows committed but not yet published.',
    registers: [registry],
    async collect() {
      this.reset();
      outboxOldest.reset();
      try {
        const backlog = await withinScrapeTimeout(sources.outboxBacklog());
        this.set(backlog.rows);
        outboxOldest.set(backlog.oldestAgeSeconds);
      } catch {
        scrapeErrors.inc({ source: 'outbox_backlog' });
      }
    },
  });
  new Gauge({
    name: 'escrow_outbox_relay_active',
    help: '1 when this instance holds the relay lock and publishes the outbox.',
    registers: [registry],
    collect() {
      this.set(sources.relayActive());
    },
  });

  return {
    registry,
    eventsConsumed: counter(
      'escrow_events_consumed_total',
      'Messages read from an inbound topic.',
      ['topic'],
    ),
    eventsApplied: counter(
      'escrow_events_applied_total',
      'Events that changed state (committed with their ledger entries and outcomes).',
      ['topic'],
    ),
    eventsKept: counter(
      'escrow_events_kept_total',
      'Events kept because their order is not known yet (applied when it opens).',
      ['topic'],
    ),
    eventsUnchanged: counter(
      'escrow_events_unchanged_total',
      'Valid events that needed no change (e.g. a condition that does not release).',
      ['topic'],
    ),
    duplicatesAbsorbed: counter(
      'escrow_duplicates_absorbed_total',
      'Redeliveries and retried callbacks the inbox recognised and made a no-op.',
      ['topic'],
    ),
    eventsRejected: counter(
      'escrow_events_rejected_total',
      'Events answered with EVENT_REJECTED, by reason (CONFLICT, INVALID_STATE, ...).',
      ['topic', 'reason'],
    ),
    eventsDeadLettered: counter(
      'escrow_events_dead_lettered_total',
      'Messages sent to escrow.dlq.v1, by category: UNDECODABLE, INVALID, PROCESSING_FAILED.',
      ['topic', 'reason'],
    ),
    processingSeconds: new Histogram({
      name: 'escrow_event_processing_seconds',
      help: 'From a message handed to the worker to its database commit (or dead-letter).',
      labelNames: ['topic'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    transientRetries: counter(
      'escrow_transient_retries_total',
      'Retries after a transient failure, by stage: decode (registry), apply (database) or dead-letter (registry or broker).',
      ['stage'],
    ),
    batchFallbacks: counter(
      'escrow_batch_fallbacks_total',
      'Batches that could not be applied in bulk (a reused key, a ledger refusal, a defect) ' +
        'and went one event at a time instead.',
      ['topic'],
    ),
    lockWaitSeconds: new Histogram({
      name: 'escrow_lock_wait_seconds',
      help: 'Time spent acquiring the Redlock lock on an order (granted or given up).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    lockFailures: counter(
      'escrow_lock_failures_total',
      'Redlock locks not obtained (work went on under the database locks), by reason.',
      ['reason'],
    ),
    ledgerTransactionsPosted: new Counter({
      name: 'escrow_ledger_transactions_posted_total',
      help: 'Ledger transactions committed.',
      registers: [registry],
    }),
    outcomesPublished: counter(
      'escrow_outcomes_published_total',
      'Outbox rows published to Kafka by this instance relay.',
      ['topic'],
    ),
  };
}
