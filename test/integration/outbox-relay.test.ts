/**
 * The outbox relay on the real Postgres, registry and Kafka: committed rows are
 * published in order with their outcome-id header and marked published; one
 * relay per database publishes, a standby takes over when it stops; rows
 * written while no relay ran are published when one starts; rows offered by
 * the process that committed them are sent from memory, in the table's order.
 */
import type { Producer } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { outboundTopics } from '../../src/codec/schemas';
import type { EscrowCommand } from '../../src/domain/escrow';
import { createKafka } from '../../src/kafka/client';
import { MAX_OFFERED_ROWS, OutboxRelay } from '../../src/outbox/relay';
import { applyEvent } from '../../src/pipeline/apply-event';
import {
  insertOutbox,
  insertOutboxSql,
  outboxRecordset,
  type OutboxRow,
  outboxRows,
} from '../../src/pipeline/outbox';
import { collectMessages, createTopics } from '../support/kafka';
import { waitUntil } from '../support/wait';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
let codec: RegistryCodec;
let producers: Producer[] = [];
const relays: OutboxRelay[] = [];

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;
const deliver = (command: EscrowCommand) =>
  applyEvent(
    ctx.db,
    {
      topicPrefix: ctx.config.TOPIC_PREFIX,
      defaultFeeRate: '0.10',
      now: () => new Date('2026-06-01T09:00:00Z'),
    },
    { topic: 'escrow.test', partition: 0, offset: '0', occurredAt: new Date(), command },
  );
const story = async (orderId: string) => {
  await deliver({
    type: 'ORDER_OPENED',
    eventId: `open-${orderId}`,
    orderId,
    buyerId: 'b',
    providerId: 'p',
    currency: 'USD',
    milestones: [
      {
        milestoneId: 'm-1',
        sequence: 1,
        amount: '10.00',
        releaseCondition: 'ANY',
        inspectionPeriodSeconds: 0,
      },
    ],
  });
  await deliver({
    type: 'PAYMENT_CONFIRMED',
    eventId: `pay-${orderId}`,
    gateway: 'g',
    gatewayReference: `ref-${orderId}`,
    orderId,
    milestoneId: 'm-1',
    kind: 'DEPOSIT',
    amount: '10.00',
    currency: 'USD',
  });
  await deliver({
    type: 'MILESTONE_REACHED',
    eventId: `reached-${orderId}`,
    orderId,
    milestoneId: 'm-1',
    condition: 'BUYER_APPROVED',
  });
};
async function newRelay(pollIntervalMs = 200): Promise<OutboxRelay> {
  const producer = createKafka(ctx.config, 'relay-test').producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  producers.push(producer);
  const relay = new OutboxRelay(ctx.db, producer, codec, {
    databaseUrl: ctx.config.DATABASE_URL,
    topicPrefix: ctx.config.TOPIC_PREFIX,
    pollIntervalMs,
  });
  relays.push(relay);
  return relay;
}
const unpublished = async () =>
  Number((await ctx.db('outbox').whereNull('published_at').count({ n: '*' }))[0]!.n);

beforeAll(async () => {
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas(outboundTopics);
  await createTopics(createKafka(ctx.config), outboundTopics.map(topic));
});
afterAll(async () => {
  await Promise.all(relays.map((relay) => relay.stop()));
  await Promise.all(producers.map((producer) => producer.disconnect()));
  producers = [];
});

test('committed outcomes are published in order with their outcome-id, decoded as stored, and marked published', async () => {
  await story('o-relay');
  const stored = await ctx
    .db('outbox')
    .where({ message_key: 'o-relay' })
    .orderBy('outbox_id')
    .select<{ outcome_id: string; topic: string; payload: unknown }[]>(
      'outcome_id',
      'topic',
      'payload',
    );
  const relay = await newRelay();
  relay.start();
  await waitUntil(async () => (await unpublished()) === 0, 15_000, 'every outbox row published');
  const received = await collectMessages(
    createKafka(ctx.config),
    `${ctx.config.CONSUMER_GROUP}-relay-1`,
    [topic('escrow.events.v1'), topic('escrow.payouts.v1')],
    (all) => all.filter((r) => r.message.key?.toString() === 'o-relay').length >= stored.length,
  );
  const mine = received.filter((r) => r.message.key?.toString() === 'o-relay');
  const events = mine.filter((r) => r.topic === topic('escrow.events.v1'));
  expect(events.map((r) => r.message.headers?.['outcome-id']?.toString())).toEqual(
    stored.filter((row) => row.topic === topic('escrow.events.v1')).map((row) => row.outcome_id),
  );
  for (const r of mine) {
    const row = stored.find((s) => s.outcome_id === r.message.headers?.['outcome-id']?.toString())!;
    expect(
      await codec.decode(
        r.topic.slice(ctx.config.TOPIC_PREFIX.length) as 'escrow.events.v1',
        r.message.value,
      ),
    ).toEqual({ ok: true, value: row.payload });
  }
  expect(mine.find((r) => r.topic === topic('escrow.payouts.v1'))).toBeDefined();
});

test('one relay per database publishes; a standby takes over when it stops, and nothing written meanwhile is lost', async () => {
  const [first, second] = [relays[0]!, await newRelay()];
  second.start();
  // The standby asked for the lock more than once (it retries every 2 s) and was refused.
  await waitUntil(
    () => second.lockRefusals >= 3,
    15_000,
    'the standby refused the lock three times',
  );
  expect([first.isActive, second.isActive]).toEqual([true, false]);

  await first.stop();
  await story('o-takeover');
  await waitUntil(() => second.isActive, 15_000, 'the standby relay taking over');
  await waitUntil(async () => (await unpublished()) === 0, 15_000, 'every outbox row published');
  const received = await collectMessages(
    createKafka(ctx.config),
    `${ctx.config.CONSUMER_GROUP}-relay-2`,
    [topic('escrow.payouts.v1')],
    (all) => all.some((r) => r.message.key?.toString() === 'o-takeover'),
  );
  expect(received.some((r) => r.message.key?.toString() === 'o-takeover')).toBe(true);
});

test("a relay whose session is cut stands down, and once it holds the lock again publishes what was written meanwhile, on that session's reads", async () => {
  const active = relays.find((relay) => relay.isActive)!;
  // The advisory lock's holder in this database: the session the relay reads and marks rows on.
  const holder = async () =>
    (
      await ctx.db.raw<{ rows: { pid: number }[] }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ?
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [0x0e5c0701],
      )
    ).rows[0]?.pid;
  const cut = await holder();
  expect(cut).toBeDefined();
  await ctx.db.raw('SELECT pg_terminate_backend(?)', [cut!]);
  // It stands down and takes the lock again on a new session: a new session is
  // only opened by a relay that is not active. The moment in between lasts
  // about one poll (200 ms here), too short to catch by polling isActive on a
  // busy machine, so the test waits for the new holder instead.
  await waitUntil(
    async () => {
      const pid = await holder();
      return pid !== undefined && pid !== cut;
    },
    15_000,
    'the relay holding its lock again on a new session',
  );
  expect(relays.filter((relay) => relay.isActive)).toEqual([active]);

  await story('o-cut');
  await waitUntil(async () => (await unpublished()) === 0, 15_000, 'every outbox row published');
  const now = await holder();
  expect(now).toBeDefined();
  expect(now).not.toBe(cut);
  // Its reads ran on the lock's session: that backend has the relay's statements prepared.
  const { rows } = await ctx.db.raw<{ rows: { pid: number }[] }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = 'escrow-outbox-relay'
       AND datname = current_database() AND query LIKE '%outbox_id%'`,
  );
  expect(rows.map((row) => row.pid)).toContain(now);
});

/** Commits `rows` to the outbox without waking the relay (the pipeline's insert, no NOTIFY). */
const commitQuietly = (rows: OutboxRow[]) =>
  ctx.db.raw(insertOutboxSql, [outboxRecordset.json(rows)]);

/** Commits `rows`, then offers them to `relay` as the pipeline does, marked so that the copy sent shows. */
async function commitOffered(relay: OutboxRelay, rows: OutboxRow[]) {
  await commitQuietly(rows);
  relay.offer(rows.map((row) => ({ ...row, payload: { ...row.payload, message: 'as offered' } })));
}

const eventRows = (orderId: string, count: number): OutboxRow[] =>
  Array.from(
    { length: count },
    (_, index) =>
      outboxRows(
        [
          {
            topic: 'escrow.events.v1',
            type: 'MILESTONE_FUNDED',
            orderId,
            milestoneId: 'm-1',
            milestoneVersion: index + 1,
            transactionIndex: null,
            fields: { state: 'FUNDED', currency: 'USD', amount: '10.00', message: 'as written' },
          },
        ],
        {
          eventId: `cause-${orderId}-${index}`,
          transactionIds: [],
          now: new Date('2026-06-01T09:00:00Z'),
          topicPrefix: ctx.config.TOPIC_PREFIX,
        },
      )[0]!,
  );

test('headers are in one order from memory and read back from the table', async () => {
  const [row] = outboxRows(
    [
      {
        topic: 'escrow.events.v1',
        type: 'MILESTONE_FUNDED',
        orderId: 'o-headers',
        milestoneId: 'm-1',
        milestoneVersion: 1,
        transactionIndex: null,
        fields: { state: 'FUNDED' },
      },
    ],
    {
      eventId: 'cause-headers',
      transactionIds: [],
      now: new Date('2026-06-01T09:00:00Z'),
      topicPrefix: ctx.config.TOPIC_PREFIX,
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=value',
    },
  );
  await ctx.db.transaction((trx) => insertOutbox(trx, [row!]));
  const [stored] = await ctx
    .db('outbox')
    .where({ outcome_id: row!.outcome_id })
    .select<{ headers: Record<string, string> }[]>('headers');
  expect(Object.keys(row!.headers)).toEqual(Object.keys(stored!.headers));
  expect(row!.headers).toEqual(stored!.headers);
  expect(Object.keys(row!.headers)).toHaveLength(4);
});

test('rows offered to the active relay are published from memory, in outbox_id order with the rows it reads from the table', async () => {
  // A relay that reads only when woken (no poll between a commit and its offer), alone.
  await waitUntil(async () => (await unpublished()) === 0, 15_000, 'every outbox row published');
  await Promise.all(relays.map((each) => each.stop()));
  const relay = await newRelay(600_000);
  relay.start();
  await waitUntil(() => relay.isActive, 15_000, 'the relay holding its lock');
  // Its first read, of an outbox with nothing pending, is sent as it takes the lock: let it end.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [offered, written] = [eventRows('o-offered', 3), eventRows('o-offered', 2)];
  // Offered, written by another process (never offered), offered: one key, one order.
  await commitOffered(relay, offered.slice(0, 2));
  await commitQuietly(written);
  await commitOffered(relay, offered.slice(2));
  await ctx.db.raw("SELECT pg_notify('escrow_outbox', '')");
  await waitUntil(async () => (await unpublished()) === 0, 15_000, 'every outbox row published');
  const received = await collectMessages(
    createKafka(ctx.config),
    `${ctx.config.CONSUMER_GROUP}-relay-offered`,
    [topic('escrow.events.v1')],
    (all) => all.filter((r) => r.message.key?.toString() === 'o-offered').length >= 5,
  );
  const mine = received.filter((r) => r.message.key?.toString() === 'o-offered');
  const decoded = await Promise.all(
    mine.map(async (r) => {
      const value = await codec.decode('escrow.events.v1', r.message.value);
      return value.ok ? (value.value as { outcomeId: string; message: string }) : null;
    }),
  );
  // The offered rows' content came from memory (the table says 'as written' for every row).
  const expected = [...offered.slice(0, 2), ...written, ...offered.slice(2)].map((row) => ({
    outcomeId: row.outcome_id,
    message: written.includes(row) ? 'as written' : 'as offered',
  }));
  expect(
    decoded.map((value) => ({ outcomeId: value?.outcomeId, message: value?.message })),
  ).toEqual(expected);
  expect(relay.offeredRows).toBe(0);
});

test('offered rows the table does not hold unpublished are forgotten at the next read that sees every pending row; a relay not active, or full, declines offers', async () => {
  const relay = relays.find((each) => each.isActive)!;
  const stopped = relays.find((each) => !each.isActive)!;
  // Offered but never committed here (as if another relay had published them already).
  relay.offer(eventRows('o-stale', 3));
  expect(relay.offeredRows).toBe(3);
  await story('o-after-stale');
  await waitUntil(() => relay.offeredRows === 0, 15_000, 'the stale offers forgotten');
  stopped.offer(eventRows('o-stopped', 1));
  expect(stopped.offeredRows).toBe(0);
  relay.offer(eventRows('o-full', MAX_OFFERED_ROWS + 1));
  expect(relay.offeredRows).toBe(0);
});
