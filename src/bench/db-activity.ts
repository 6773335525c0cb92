/**
 * Where the worker's time goes, as Postgres sees it: every 50 ms, what the
 * worker's database sessions are doing (pg_stat_activity). Each sample is
 * counted once, under the most telling state any worker session is in:
 * waiting for a lock, flushing WAL at commit, executing a statement, inside
 * a transaction waiting for the worker (a round trip, or the worker's own
 * JavaScript), or no transaction open at all (the worker is fetching from
 * Kafka, committing offsets, taking the Redis lock, decoding — or idle).
 * With one message at a time this is a fair split of wall time.
 *
 * The lock waits are broken down too, by the lock waited for (pg_stat_activity's
 * wait_event): the orders' pg_advisory_xact_lock (`advisory`), row locks
 * (`transactionid`: waiting for the transaction that holds the row, `tuple`:
 * queued for a row another waiter is first in line for; both are how a
 * running balance's account row shows), whole tables (`relation`), anything
 * else (`other`). Each sample with a lock wait counts once, shared equally
 * between the waits it saw, so the shares add up to the samples waiting for a
 * lock.
 */
import { Client } from 'pg';

export type Activity =
  | 'waiting for a lock'
  | 'commit: flushing WAL'
  | 'executing a statement'
  | 'other wait in Postgres'
  | 'in a transaction, waiting for the worker'
  | 'no transaction open';

const priority: readonly Activity[] = [
  'waiting for a lock',
  'commit: flushing WAL',
  'executing a statement',
  'other wait in Postgres',
  'in a transaction, waiting for the worker',
  'no transaction open',
];

export type LockKind = 'advisory' | 'transactionid' | 'tuple' | 'relation' | 'other';

const lockKinds: readonly LockKind[] = ['advisory', 'transactionid', 'tuple', 'relation', 'other'];

/** The kind of lock a session waits for, from its wait_event (wait_event_type 'Lock'). */
export function lockKindOf(waitEvent: string | null): LockKind {
  return lockKinds.find((kind) => kind !== 'other' && kind === waitEvent) ?? 'other';
}

/** Percent per kind, one decimal, in `order`, leaving out the kinds never seen. */
function shares<Key extends string>(
  counts: ReadonlyMap<Key, number>,
  order: readonly Key[],
): Partial<Record<Key, number>> {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const result: Partial<Record<Key, number>> = {};
  for (const key of order) {
    const count = counts.get(key) ?? 0;
    if (total > 0 && count > 0) result[key] = Math.round((1000 * count) / total) / 10;
  }
  return result;
}

/**
 * One sample's lock waits: each waiting session's kind with an equal part of
 * the sample (a sample counts once, however many sessions waited).
 */
export function lockWaitParts(
  rows: readonly { wait_event_type: string | null; wait_event: string | null }[],
): Map<LockKind, number> {
  const waits = rows.filter((row) => row.wait_event_type === 'Lock');
  const parts = new Map<LockKind, number>();
  for (const wait of waits) {
    const kind = lockKindOf(wait.wait_event);
    parts.set(kind, (parts.get(kind) ?? 0) + 1 / waits.length);
  }
  return parts;
}

interface SessionRow {
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
}

function activityOf(row: SessionRow): Activity {
  if (row.state === 'idle in transaction') return 'in a transaction, waiting for the worker';
  if (row.state !== 'active') return 'no transaction open';
  if (row.wait_event_type === 'Lock') return 'waiting for a lock';
  if (row.wait_event !== null && /^WAL(Sync|Write)$/.test(row.wait_event))
    return 'commit: flushing WAL';
  if (row.wait_event_type === null || row.wait_event_type === 'CPU') return 'executing a statement';
  return 'other wait in Postgres';
}

export class DbActivitySampler {
  private readonly client: Client;
  private readonly counts = new Map<Activity, number>();
  private readonly lockWaitCounts = new Map<LockKind, number>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly database: string;

  constructor(
    databaseUrl: string,
    private readonly applicationName = 'escrow-worker',
  ) {
    const url = new URL(databaseUrl);
    this.database = decodeURIComponent(url.pathname.slice(1));
    this.client = new Client({
      connectionString: databaseUrl,
      application_name: 'escrow-bench-sampler',
    });
  }

  async start(): Promise<void> {
    await this.client.connect();
    this.timer = setInterval(() => void this.sample(), 50);
  }

  private async sample(): Promise<void> {
    if (this.busy) return; // a slow answer skips a tick rather than piling up queries
    this.busy = true;
    try {
      const { rows } = await this.client.query<SessionRow>(
        `SELECT state, wait_event_type, wait_event FROM pg_stat_activity
         WHERE datname = $1 AND application_name = $2`,
        [this.database, this.applicationName],
      );
      const seen = new Set(rows.map(activityOf));
      const top = priority.find((activity) => seen.has(activity)) ?? 'no transaction open';
      this.counts.set(top, (this.counts.get(top) ?? 0) + 1);
      for (const [kind, part] of lockWaitParts(rows)) {
        this.lockWaitCounts.set(kind, (this.lockWaitCounts.get(kind) ?? 0) + part);
      }
    } catch {
      // A sample lost to a busy server says nothing; the others still do.
    } finally {
      this.busy = false;
    }
  }

  /** Stops sampling; the share of samples per activity, in percent, in priority order. */
  async stop(): Promise<Partial<Record<Activity, number>>> {
    clearInterval(this.timer);
    await this.client.end().catch(() => undefined);
    return shares(this.counts, priority);
  }

  /** Of the samples in which a worker session waited for a lock, the share (percent) per kind of lock. */
  lockWaits(): Partial<Record<LockKind, number>> {
    return shares(this.lockWaitCounts, lockKinds);
  }
}
