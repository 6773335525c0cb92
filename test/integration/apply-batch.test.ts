/**
 * The batch path against the one-event path, on real Postgres: the same
 * stream of events goes through applyEvent one at a time into one database
 * and through applyBatch, in batches of varying size, into another; the two
 * must end with the same verdicts and the same rows — inbox, orders,
 * milestones, accounts, ledger, releases, payments, kept events and outbox —
 * up to generated ids. The stream is the benchmark's realistic mix, shuffled
 * across topics so payments and milestone events arrive before their orders,
 * with reused keys, rejected amounts and a batch the ledger refuses. Each
 * path also hands over, after every commit, the outbox rows it wrote (for the
 * relay, src/outbox/relay.ts): together, exactly the table's rows in its
 * order, each as the table holds it; a dry run, or a transaction refused at
 * its commit, hands nothing over.
 */
import type { Knex } from 'knex';
import { seededRandom } from '../../src/bench/random';
import type { EscrowCommand } from '../../src/domain/escrow';
import { applyBatch } from '../../src/pipeline/apply-batch';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { EventResult, InboundEvent, PipelineSettings } from '../../src/pipeline/events';
import type { OutboxRow } from '../../src/pipeline/outbox';
import { benchStream } from '../support/bench-stream';
import { useTestContext } from '../support/test-context';

// A pair of databases per case: one for each path.
const pairs = [0, 1, 2].map(() => ({ single: useTestContext(), batched: useTestContext() }));

/** Each run's committed outbox rows, in the order they were handed over. */
type Handed = OutboxRow[];
const settings = (prefix: string, handed: Handed): PipelineSettings => ({
  topicPrefix: prefix,
  defaultFeeRate: '0.10',
  now: () => new Date('2026-06-01T09:00:00Z'),
  committedOutbox: (rows) => handed.push(...rows),
});

/**
 * What was handed over after the commits is the outbox table, row for row in
 * outbox_id order: nothing of a rolled-back or dry-run transaction, nothing
 * missing, and each row's content as the relay would read it back.
 */
async function expectHandedIsTable(db: Knex, handed: Handed) {
  const table = await db('outbox')
    .orderBy('outbox_id')
    .select<OutboxRow[]>('outcome_id', 'topic', 'message_key', 'type', 'payload', 'headers');
  expect(table.length).toBeGreaterThan(0);
  expect(handed.map((row) => row.outcome_id)).toEqual(table.map((row) => row.outcome_id));
  expect(handed).toEqual(table);
}
const withCommand = (event: InboundEvent, command: EscrowCommand): InboundEvent => ({
  ...event,
  command,
});

/** Adversarial variations: a reused gateway reference, an over-precise amount, a repeated eventId. */
function withTrouble(events: InboundEvent[]): InboundEvent[] {
  const out = [...events];
  const payments = events.filter((e) => e.command.type === 'PAYMENT_CONFIRMED');
  const first = payments[3]!.command as Extract<EscrowCommand, { type: 'PAYMENT_CONFIRMED' }>;
  out.splice(
    out.indexOf(payments[3]!) + 7,
    0,
    withCommand(payments[3]!, { ...first, eventId: 'reused-ref', amount: '1.00' }),
  );
  const second = payments[9]!.command as Extract<EscrowCommand, { type: 'PAYMENT_CONFIRMED' }>;
  // At the end, when its order is surely open: rejected, not kept.
  out.push(
    withCommand(payments[9]!, {
      ...second,
      eventId: 'too-precise',
      gatewayReference: 'too-precise',
      amount: '10.001',
    }),
  );
  out.push(out[5]!); // a plain redelivery
  return out;
}

async function runSingle(db: Knex, prefix: string, events: readonly InboundEvent[]) {
  const results: EventResult[] = [];
  const handed: Handed = [];
  for (const event of events) results.push(await applyEvent(db, settings(prefix, handed), event));
  await expectHandedIsTable(db, handed);
  return results;
}

/** In batches of varying size, every one in bulk: a batch that throws fails the test. */
async function runBatched(db: Knex, prefix: string, events: readonly InboundEvent[], seed: string) {
  const random = seededRandom(`batch-sizes:${seed}`);
  const results: EventResult[] = [];
  const handed: Handed = [];
  for (let start = 0; start < events.length;) {
    const size = 1 + Math.floor(random.next() * 120);
    const batch = events.slice(start, start + size);
    results.push(...(await applyBatch(db, settings(prefix, handed), batch)));
    start += batch.length;
  }
  await expectHandedIsTable(db, handed);
  return results;
}

/** Every row the pipeline writes, with generated ids replaced by their rank. */
async function snapshot(db: Knex) {
  const q = async (sql: string) => (await db.raw<{ rows: Record<string, unknown>[] }>(sql)).rows;
  return {
    inbox: await q(
      `SELECT dedupe_key, event_id, topic, kafka_partition, kafka_offset, payload_hash, outcome, reason
       FROM inbox ORDER BY dedupe_key COLLATE "C"`,
    ),
    orders: await q(
      `SELECT order_id, buyer_id, provider_id, currency, state, opened_event_id, opened_at
       FROM orders ORDER BY order_id COLLATE "C"`,
    ),
    milestones: await q(
      `SELECT * FROM milestones ORDER BY order_id COLLATE "C", milestone_id COLLATE "C"`,
    ).then((rows) => rows.map(({ created_at, updated_at, ...row }) => row)),
    accounts: await q(
      `SELECT code, kind, currency, order_id, milestone_id, party_id, balance_minor, version
       FROM accounts ORDER BY code COLLATE "C"`,
    ),
    ledger: await q(
      `WITH t AS (SELECT *, row_number() OVER (ORDER BY transaction_id) AS n FROM ledger_transactions)
       SELECT t.n, t.kind, t.order_id, t.milestone_id, t.cause_event_id, t.cause_topic, t.memo,
         json_agg(json_build_object('account', a.code, 'amount', e.amount_minor,
           'after', e.balance_after_minor, 'version', e.account_version) ORDER BY e.entry_id) AS entries
       FROM t JOIN ledger_entries e USING (transaction_id) JOIN accounts a USING (account_id)
       GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY t.n`,
    ),
    releases: await q(
      `SELECT t.n, r.provider_id, r.currency, r.gross_minor, r.fee_minor FROM releases r
       JOIN (SELECT transaction_id, row_number() OVER (ORDER BY transaction_id) AS n
             FROM ledger_transactions) t USING (transaction_id) ORDER BY t.n`,
    ),
    payments: await q(
      `SELECT p.gateway, p.gateway_reference, p.event_id, p.order_id, p.milestone_id, p.kind,
         p.currency, p.amount_minor, p.status, p.applied_minor, p.refunded_minor, t.n AS ledger_n
       FROM payments p LEFT JOIN (SELECT transaction_id, row_number() OVER (ORDER BY transaction_id) AS n
             FROM ledger_transactions) t ON t.transaction_id = p.ledger_transaction_id
       ORDER BY p.payment_id`,
    ),
    kept: await q(
      `SELECT order_id, dedupe_key, topic, command, replayed_at IS NOT NULL AS replayed, failed_reason
       FROM kept_events ORDER BY kept_id`,
    ),
    outbox: await q(
      `SELECT o.topic, o.message_key, o.type, o.payload - 'outcomeId' - 'ledgerTransactionId' AS payload,
         o.headers->>'cause-event-id' AS cause, t.n AS ledger_n
       FROM outbox o LEFT JOIN (SELECT transaction_id::text AS id,
             row_number() OVER (ORDER BY transaction_id) AS n FROM ledger_transactions) t
         ON t.id = o.payload->>'ledgerTransactionId'
       ORDER BY o.outbox_id`,
    ),
  };
}

const verdicts = (results: readonly EventResult[]) =>
  results.map((r) => ({
    verdict: r.verdict,
    reason: r.reason,
    outcomes: r.outcomeIds.length,
    ledgerTransactions: r.ledgerTransactions,
  }));

const prefix = 'escrow-batch-test.';

test('a dry run and a transaction that rolls back hand nothing over', async () => {
  const { single } = pairs[0]!;
  const events = benchStream('dry', 40, 0);
  const handed: Handed = [];
  const results = await applyBatch(single.db, settings(prefix, handed), events, { dryRun: true });
  expect(results.some((result) => result.outcomeIds.length > 0)).toBe(true);
  // The same slice for real, refused at its COMMIT (a deferred trigger): every row
  // was written, nothing is kept, and nothing may be handed over.
  await single.db.raw(`
    CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'check_violation'; END $$;
    CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON outbox
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
  `);
  try {
    await expect(applyBatch(single.db, settings(prefix, handed), events)).rejects.toThrow(
      'refused at commit',
    );
  } finally {
    await single.db.raw(
      'DROP TRIGGER refuse_at_commit ON outbox; DROP FUNCTION refuse_at_commit()',
    );
  }
  expect(handed).toEqual([]);
  expect(await single.db('outbox').count<{ n: string }[]>({ n: '*' })).toEqual([{ n: '0' }]);
});

test.each([
  ['a', 1200, 0, 0],
  ['b', 1200, 40, 1],
])(
  'seed %s: %i events (orders overtaken by up to %i places) leave the same rows',
  async (seed, count, spread, pair) => {
    const { single, batched } = pairs[pair]!;
    const events = benchStream(seed, count, spread);
    const one = await runSingle(single.db, prefix, events);
    const results = await runBatched(batched.db, prefix, events, seed);

    expect(verdicts(results)).toEqual(verdicts(one));
    const [expected, actual] = [await snapshot(single.db), await snapshot(batched.db)];
    expect(actual).toEqual(expected);
    // And it covered what it claims to.
    const seen = new Set(one.map((r) => r.verdict));
    expect([...seen].sort()).toEqual(expect.arrayContaining(['APPLIED', 'DUPLICATE']));
    if (spread > 0) expect(expected.kept.length).toBeGreaterThan(0);
    expect(expected.releases.length).toBeGreaterThan(0);
  },
  120_000,
);

test('a stream with a reused key and rejected amounts: the batches holding them go in bulk too, with the same result', async () => {
  const { single, batched } = pairs[2]!;
  const events = withTrouble(benchStream('c', 600, 20));
  const one = await runSingle(single.db, prefix, events);
  const results = await runBatched(batched.db, prefix, events, 'c');

  expect(verdicts(results)).toEqual(verdicts(one));
  expect(one.map((r) => r.reason)).toEqual(
    expect.arrayContaining(['IDEMPOTENCY_CONFLICT', 'AMOUNT_PRECISION']),
  );
  const [expected, actual] = [await snapshot(single.db), await snapshot(batched.db)];
  expect(actual).toEqual(expected);
}, 120_000);
