/**
 * The dead-letter tools against a real worker, broker, registry and Postgres:
 * a message dead-lettered by a defect is listed with its reason, replayed
 * after the fix and applied once; replaying it again changes nothing (the
 * inbox); garbage is listed and never replayed; unknown ids send nothing; the
 * real CLI prints the list; the tool leaves no consumer group behind.
 *
 * The "defect" is honest and goes through the worker's own dead-letter path: a
 * trigger refuses the payments row of one gateway reference with a check
 * violation, the permanent kind of failure the runner dead-letters as
 * "processing failed: ..." (docs/pipeline.md). Dropping the trigger is the fix.
 */
import { refusePaymentsWithReference } from '../support/simulated-defect';
import type { Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import type { DeadLetterEntry } from '../../src/dlq/dead-letter';
import { REPLAYED_FROM_HEADER } from '../../src/messages/dead-letter';
import { readDeadLetters } from '../../src/dlq/read-dead-letters';
import { planReplay, publishReplay } from '../../src/dlq/replay-dead-letters';
import { replayStates } from '../../src/dlq/replay-state';
import { createKafka, createProducer } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { collectMessages, createTopics } from '../support/kafka';
import { validMessages } from '../support/messages';
import { type CommandResult, runCli } from '../support/cli';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { randomOpsPort } from '../support/ops-port';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let worker: RunningWorker;
let kafka: Kafka;
let codec: RegistryCodec;

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;
const source = (topicPrefix = ctx.config.TOPIC_PREFIX) => ({
  kafka,
  codec,
  topicPrefix,
  consumerGroup: ctx.config.CONSUMER_GROUP,
});
const states = (entries: readonly DeadLetterEntry[]) =>
  replayStates(entries, { codec, db: ctx.db, topicPrefix: ctx.config.TOPIC_PREFIX });

async function produce(name: InboundTopic, key: string, value: Buffer): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send({ topic: topic(name), acks: -1, messages: [{ key, value }] });
  await producer.disconnect();
}

async function deadLetterKeyed(key: string): Promise<DeadLetterEntry> {
  let found: DeadLetterEntry | undefined;
  await waitUntil(
    async () => {
      found = (await readDeadLetters(source())).find((e) => e.originalKey?.toString() === key);
      return found !== undefined;
    },
    45_000,
    `a dead letter keyed ${key}`,
  );
  return found!;
}

/** The worker's committed offset on a partition has passed `offset`: it has handled that message. */
async function workerPassed(topicName: string, partition: number, offset: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitUntil(
      async () => {
        const [committed] = await admin.fetchOffsets({
          groupId: ctx.config.CONSUMER_GROUP,
          topics: [topicName],
        });
        const at = committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        return BigInt(at) > BigInt(offset);
      },
      30_000,
      `the worker committing past ${topicName}@${partition}:${offset}`,
    );
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'dlq-tool-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas(['escrow.orders.v1', 'escrow.payment-confirmed.v1']);
}, 60_000);
ctx.beforeTeardown(async () => {
  await worker?.stop();
});

test('no DLQ topic, or an empty one, reads as no entries at once', async () => {
  expect(await readDeadLetters(source(`${ctx.config.TOPIC_PREFIX}never-`))).toEqual([]);
  const emptyPrefix = `${ctx.config.TOPIC_PREFIX}empty-`;
  await createTopics(kafka, [`${emptyPrefix}escrow.dlq.v1`]);
  expect(await readDeadLetters({ ...source(emptyPrefix), timeoutMs: 5000 })).toEqual([]);
});

test('a message dead-lettered by a defect is replayed after the fix, applied once, and a second replay is a no-op', async () => {
  const [opened] = validMessages['escrow.orders.v1'];
  await produce(
    'escrow.orders.v1',
    'o-dlq',
    await codec.encode('escrow.orders.v1', {
      ...opened,
      orderId: 'o-dlq',
      eventId: 'open-dlq',
    }),
  );
  await waitUntil(
    async () => (await ctx.db('milestones').where({ order_id: 'o-dlq' }).first()) !== undefined,
    30_000,
    'order o-dlq opening',
  );
  const defect = await refusePaymentsWithReference(ctx.db, 'ch-dlq');
  const payment = {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    orderId: 'o-dlq',
    eventId: 'pay-dlq',
    gatewayReference: 'ch-dlq',
  };
  await produce(
    'escrow.payment-confirmed.v1',
    'o-dlq',
    await codec.encode('escrow.payment-confirmed.v1', payment),
  );

  const entry = await deadLetterKeyed('o-dlq');
  expect(entry.reason).toMatch(/^processing failed: .*simulated defect refusing ch-dlq/);
  expect(entry.sourceTopic).toBe(topic('escrow.payment-confirmed.v1'));
  expect(await states([entry])).toEqual([
    { state: 'pending', inboxKey: 'payment:["stripe","ch-dlq"]' },
  ]);
  const milestone = () =>
    ctx.db('milestones').where({ order_id: 'o-dlq' }).first<{ state: string; version: number }>();
  expect((await milestone()).state).toBe('PENDING_FUNDING');

  await defect.fixed(); // the fix
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    const entries = await readDeadLetters(source());
    const plan = planReplay(
      entries,
      await states(entries),
      { ids: [entry.id] },
      ctx.config.TOPIC_PREFIX,
    );
    expect(plan.send.map((item) => item.entry.id)).toEqual([entry.id]);
    const [first] = await publishReplay(producer, plan);
    expect(first).toMatchObject({ topic: entry.sourceTopic, partition: entry.sourcePartition });
    await waitUntil(
      async () => (await milestone()).state === 'FUNDED',
      30_000,
      'the replayed payment funding o-dlq',
    );

    const effects = async () => ({
      transactions: await ctx
        .db('ledger_transactions')
        .where({ cause_event_id: 'pay-dlq' })
        .count({ n: '*' }),
      inbox: await ctx.db('inbox').count({ n: '*' }),
      milestone: await milestone(),
    });
    const afterFirst = await effects();
    expect(afterFirst.transactions).toEqual([{ n: '1' }]);
    expect(await states([entry])).toEqual([
      { state: 'done', inboxKey: 'payment:["stripe","ch-dlq"]', outcome: 'APPLIED', reason: null },
    ]);

    // Again, by id: the inbox answers it as a duplicate once the worker has read it.
    const again = planReplay(
      entries,
      await states(entries),
      { ids: [entry.id] },
      ctx.config.TOPIC_PREFIX,
    );
    const [second] = await publishReplay(producer, again);
    await workerPassed(second!.topic, second!.partition, second!.offset);
    expect(await effects()).toEqual(afterFirst);
    expect((await readDeadLetters(source())).map((e) => e.id)).toEqual(entries.map((e) => e.id));

    const replayedCopies = await collectMessages(
      kafka,
      `${ctx.config.CONSUMER_GROUP}-check-replays`,
      [entry.sourceTopic],
      (all) =>
        all.filter((r) => r.message.headers?.[REPLAYED_FROM_HEADER] !== undefined).length >= 2,
    );
    const header = replayedCopies.find((r) => r.message.headers?.[REPLAYED_FROM_HEADER])!.message
      .headers!;
    expect(header[REPLAYED_FROM_HEADER]?.toString()).toBe(`${topic('escrow.dlq.v1')}:${entry.id}`);
  } finally {
    await producer.disconnect();
  }
}, 120_000);

test('garbage is listed with its reason, refused by id, skipped by --all; unknown ids replay nothing', async () => {
  await produce('escrow.orders.v1', 'o-garbage', Buffer.from('not avro at all'));
  const garbage = await deadLetterKeyed('o-garbage');
  expect(garbage.reason).toContain('not in the Confluent wire format');
  expect(garbage.originalValue).toEqual(Buffer.from('not avro at all'));

  const entries = await readDeadLetters(source());
  const current = await states(entries);
  expect(current[entries.findIndex((e) => e.id === garbage.id)]).toMatchObject({
    state: 'invalid',
  });
  const prefix = ctx.config.TOPIC_PREFIX;
  expect(() => planReplay(entries, current, { ids: [garbage.id] }, prefix)).toThrow(
    expect.objectContaining({ code: 'DLQ_NOT_REPLAYABLE' }) as Error,
  );
  expect(() => planReplay(entries, current, { ids: ['2:99999', '1:88888'] }, prefix)).toThrow(
    /No DLQ entry 2:99999, 1:88888 .*nothing was replayed/,
  );
  const all = planReplay(entries, current, { all: true, filter: {} }, prefix);
  expect(all.send.map((item) => item.entry.id)).not.toContain(garbage.id);
  expect(all.skipped.find((item) => item.entry.id === garbage.id)?.why).toMatch(
    /would be dead-lettered again/,
  );
}, 90_000);

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  const env = {
    ...process.env,
    KAFKA_BROKERS: ctx.config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: ctx.config.SCHEMA_REGISTRY_URL,
    DATABASE_URL: ctx.config.DATABASE_URL,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    CONSUMER_GROUP: ctx.config.CONSUMER_GROUP,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  return runCli(args, env);
}

test('the real CLI: dlq list --json prints every entry with its reason and state; an unknown id fails; no group is left', async () => {
  const [listed, unknown, usage] = await Promise.all([
    // debug: KafkaJS logs at info and below must stay off stdout, which holds the JSON.
    cli(['dlq', 'list', '--json'], { LOG_LEVEL: 'debug' }),
    cli(['dlq', 'replay', '--id', '7:123']),
    cli(['dlq', 'replay']),
  ]);
  expect(listed.code).toBe(0);
  expect(listed.stderr).toContain('kafkajs');
  const lines = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        key: 'o-garbage',
        reason: expect.stringContaining('not in the Confluent wire format') as string,
        state: expect.objectContaining({ state: 'invalid' }) as object,
      }),
      expect.objectContaining({
        key: 'o-dlq',
        sourceTopic: topic('escrow.payment-confirmed.v1'),
        state: expect.objectContaining({ state: 'done', outcome: 'APPLIED' }) as object,
      }),
    ]),
  );
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('No DLQ entry 7:123');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('needs --id P:O[,P:O...] or --all');

  const admin = kafka.admin();
  await admin.connect();
  const { groups } = await admin.listGroups();
  await admin.disconnect();
  const leftovers = groups.filter((g) =>
    g.groupId.startsWith(`${ctx.config.CONSUMER_GROUP}-dlq-tool-`),
  );
  expect(leftovers).toEqual([]);
}, 90_000);
