/**
 * The database floor: how fast this machine's Postgres takes the rows the
 * worker writes for these events, with no Kafka, no Redis and no reads. The
 * rows come from FloorModel (the real domain decisions, computed before the
 * clock starts); here they are written in transactions of 500 events, one
 * multi-row statement per table, with the worker's version guard on
 * milestone updates, the ledger's triggers (append-only, balanced at
 * commit) and synchronous_commit as the server has it (on). The settlements
 * of the payouts and refunds the events ask for are among the events, each
 * right after the event whose request it answers (db-floor-model.ts).
 */
import type { Knex } from 'knex';
import { insertOutbox } from '../pipeline/outbox';
import { fromOrder } from '../store/order-rows';
import { type AccountState, chainTimestamp, type FloorEvent, FloorModel } from './db-floor-model';
import { columnsOf } from '../db/columns';
import { type MilestoneChange, noteMilestoneChange } from '../store/milestone-changes';
import { writeMilestones } from '../store/order-writes';
import { writeSettlements } from './db-floor-settlements';
import type { BenchPlan } from './generator';

export interface FloorResult {
  readonly eventsPerSecond: number;
  readonly durationMs: number;
  readonly rows: number;
  /** Events written: the planned ones and the settlements answering their requests. */
  readonly events: number;
  /** Of those, settlements of payouts and refunds. */
  readonly settlements: number;
}

interface Batch {
  readonly events: FloorEvent[];
  /** Running balances of the accounts the batch touched, as they stand at its end. */
  readonly balances: { id: number; balance: bigint; version: bigint }[];
}

const batchSize = 500;

export async function measureDbFloor(
  db: Knex,
  plan: Pick<BenchPlan, 'events' | 'answers'>,
  settings: { feeRate: string; topicPrefix: string },
): Promise<FloorResult> {
  const model = new FloorModel(settings.feeRate, settings.topicPrefix, plan.answers);
  const now = new Date();
  const batches: Batch[] = [];
  let modelled: FloorEvent[] = [];
  const close = () => {
    // Each touched account's running balance as it stands at the batch's end.
    const balances = [...model.touched].map((a: AccountState) => ({
      id: a.id,
      balance: a.balance,
      version: a.version,
    }));
    model.touched.clear();
    batches.push({ events: modelled, balances });
    modelled = [];
  };
  // An event and the settlements answering it stay in one batch.
  for (const event of plan.events) {
    modelled.push(...model.applyAnswered(event, now));
    if (modelled.length >= batchSize) close();
  }
  if (modelled.length > 0) close();
  const events = batches.reduce((sum, batch) => sum + batch.events.length, 0);
  const settlements = batches.reduce(
    (sum, batch) => sum + batch.events.filter((event) => event.answering).length,
    0,
  );
  const started = performance.now();
  let rows = 0;
  for (const batch of batches) rows += await db.transaction((trx) => writeBatch(trx, batch, now));
  const durationMs = performance.now() - started;
  return { eventsPerSecond: events / (durationMs / 1000), durationMs, rows, events, settlements };
}

/** Writes one batch; returns the number of rows written. */
async function writeBatch(trx: Knex.Transaction, batch: Batch, now: Date): Promise<number> {
  const { events } = batch;
  let rows = 0;
  const insert = async (table: string, values: Record<string, unknown>[], conflict?: string) => {
    if (values.length === 0) return;
    const query = trx(table).insert(values);
    await (conflict ? query.onConflict(conflict).ignore() : query);
    rows += values.length;
  };
  await insert(
    'inbox',
    events.map((e) => ({
      dedupe_key: e.inbox.key,
      event_id: e.eventId,
      topic: e.topic,
      payload_hash: e.inbox.hash,
      outcome: e.inbox.outcome,
      reason: e.inbox.reason,
    })),
    'dedupe_key',
  );
  await insert(
    'orders',
    events.flatMap((e) =>
      e.newOrder ? [{ ...fromOrder(e.newOrder), opened_event_id: e.eventId, opened_at: now }] : [],
    ),
  );
  const milestones = lastStates(events);
  await writeMilestones(trx, milestones);
  rows += milestones.length;

  const accounts = events.flatMap((e) => e.newAccounts);
  if (accounts.length > 0) {
    await trx.raw(
      `INSERT INTO accounts (account_id, code, kind, currency, order_id, milestone_id, party_id)
       OVERRIDING SYSTEM VALUE
       SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])`,
      columnsOf(
        accounts.map((a) => a.id),
        accounts.map((a) => a.code),
        accounts.map((a) => a.ref.kind),
        accounts.map((a) => a.ref.currency),
        accounts.map((a) => a.ref.orderId ?? null),
        accounts.map((a) => a.ref.milestoneId ?? null),
        accounts.map((a) => a.ref.partyId ?? null),
      ),
    );
    rows += accounts.length;
  }
  const transactions = events.flatMap((e) => e.transactions.map((t) => ({ ...t, event: e })));
  if (transactions.length > 0) {
    await trx.raw(
      `INSERT INTO ledger_transactions (transaction_id, kind, order_id, milestone_id, cause_event_id,
         cause_topic, memo, created_at, previous_hash, hash)
       OVERRIDING SYSTEM VALUE
       SELECT id, kind, order_id, milestone_id, cause, topic, memo::jsonb, ?::timestamptz,
         previous_hash, hash
       FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
         ?::text[], ?::text[])
         AS t(id, kind, order_id, milestone_id, cause, topic, memo, previous_hash, hash)`,
      [
        chainTimestamp(now),
        ...columnsOf(
          transactions.map((t) => t.id),
          transactions.map((t) => t.draft.kind),
          transactions.map((t) => t.draft.orderId),
          transactions.map((t) => t.draft.milestoneId),
          transactions.map((t) => t.event.eventId),
          transactions.map((t) => t.event.topic),
          transactions.map((t) => JSON.stringify(t.draft.memo)),
          transactions.map((t) => t.previousHash),
          transactions.map((t) => t.hash),
        ),
      ],
    );
    // Each order's chain head moved to its last transaction of the batch, as the worker's
    // write statement does.
    const heads = new Map<string, { hash: string; added: number }>();
    for (const t of transactions)
      heads.set(t.draft.orderId, {
        hash: t.hash,
        added: (heads.get(t.draft.orderId)?.added ?? 0) + 1,
      });
    await trx.raw(
      `INSERT INTO ledger_chain_heads AS head (order_id, hash, length)
       SELECT order_id, hash, added FROM unnest(?::text[], ?::text[], ?::bigint[])
         AS moved(order_id, hash, added)
       ON CONFLICT (order_id) DO UPDATE SET hash = excluded.hash,
         length = head.length + excluded.length`,
      columnsOf(
        [...heads.keys()],
        [...heads.values()].map((head) => head.hash),
        [...heads.values()].map((head) => head.added),
      ),
    );
    const entries = transactions.flatMap((t) => t.entries.map((entry) => ({ ...entry, id: t.id })));
    await trx.raw(
      `INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, balance_after_minor, account_version)
       SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[])`,
      columnsOf(
        entries.map((e) => e.id),
        entries.map((e) => e.accountId),
        entries.map((e) => e.currency),
        entries.map((e) => e.amount.toString()),
        entries.map((e) => e.balanceAfter?.toString() ?? null),
        entries.map((e) => e.version?.toString() ?? null),
      ),
    );
    rows += transactions.length + entries.length;
  }
  if (batch.balances.length > 0) {
    await trx.raw(
      `UPDATE accounts a SET balance_minor = v.balance, version = v.version
       FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(id, balance, version)
       WHERE a.account_id = v.id`,
      columnsOf(
        batch.balances.map((b) => b.id),
        batch.balances.map((b) => b.balance.toString()),
        batch.balances.map((b) => b.version.toString()),
      ),
    );
    rows += batch.balances.length;
  }
  await insert(
    'payments',
    events.flatMap((e) => (e.payment ? [e.payment] : [])),
  );
  await insert(
    'releases',
    transactions.flatMap(({ id, draft }) =>
      draft.release
        ? [
            {
              transaction_id: id,
              provider_id: draft.release.providerId,
              currency: draft.release.gross.currency,
              gross_minor: draft.release.gross.minor.toString(),
              fee_minor: draft.release.fee.minor.toString(),
              released_at: now,
            },
          ]
        : [],
    ),
  );
  // The worker's own statement: the rows in order, and the relay's notification.
  const outbox = events.flatMap((e) => e.outbox);
  await insertOutbox(trx, outbox);
  return rows + outbox.length + (await writeSettlements(trx, events, now));
}

/** Each milestone the batch touched once: its state at the end, the version read before the batch. */
function lastStates(events: readonly FloorEvent[]): MilestoneChange[] {
  const latest = new Map<string, MilestoneChange>();
  for (const { milestone, readVersion } of events.flatMap((e) => e.milestones))
    noteMilestoneChange(latest, milestone, readVersion);
  return [...latest.values()];
}
