/**
 * Dead letters that would not fit the DLQ topic, against a real worker,
 * broker, registry and Postgres. A value close to the broker's
 * max.message.bytes used to make the dead letter (the original bytes wrapped
 * with source, reason and headers) too large: the broker refused it with
 * MESSAGE_TOO_LARGE, KafkaJS stopped the consumer for good, and nothing after
 * it on any partition was processed. Now such a value is dead-lettered as a
 * prefix, the reason says so with its size and sha256, the DLQ tool refuses
 * to replay the prefix, and the worker goes on. A DLQ topic that refuses even
 * the prefix gets the dead letter without the value.
 */
import { createHash } from 'node:crypto';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { DeadLetterEntry } from '../../src/dlq/dead-letter';
import { TRUNCATION_HEADERS } from '../../src/messages/dead-letter';
import { readDeadLetters } from '../../src/dlq/read-dead-letters';
import { planReplay } from '../../src/dlq/replay-dead-letters';
import { replayStates } from '../../src/dlq/replay-state';
import { createKafka, createProducer } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { VALUE_PREFIX_BYTES } from '../../src/pipeline/dead-letter-record';
import { type RunningWorker, startWorker } from '../../src/worker';
import { runCli } from '../support/cli';
import { collectMessages } from '../support/kafka';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { randomOpsPort } from '../support/ops-port';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let worker: RunningWorker;
let kafka: Kafka;
let codec: RegistryCodec;

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'dead-letter-size-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas(['escrow.orders.v1']);
}, 60_000);
ctx.beforeTeardown(async () => {
  await worker?.stop();
});

async function topicConfig(name: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] }],
    });
    return Number(described.resources[0]!.configEntries[0]!.configValue);
  } finally {
    await admin.disconnect();
  }
}

/** An undecodable value, then a valid ORDER_OPENED with the same key (so the same partition) behind it. */
async function sendThenOpen(
  key: string,
  value: Buffer,
): Promise<{ partition: number; offset: string }> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    const [sent] = await producer.send({
      topic: topic('escrow.orders.v1'),
      acks: -1,
      messages: [{ key, value, headers: { 'trace-id': `trace-${key}` } }],
    });
    const open = await codec.encode('escrow.orders.v1', {
      ...validMessages['escrow.orders.v1'][0],
      eventId: `open-${key}`,
      orderId: key,
    });
    await producer.send({
      topic: topic('escrow.orders.v1'),
      acks: -1,
      messages: [{ key, value: open }],
    });
    return { partition: sent!.partition, offset: sent!.baseOffset! };
  } finally {
    await producer.disconnect();
  }
}

async function deadLetterAt(where: {
  partition: number;
  offset: string;
}): Promise<DeadLetterEntry> {
  const source = {
    kafka,
    codec,
    topicPrefix: ctx.config.TOPIC_PREFIX,
    consumerGroup: ctx.config.CONSUMER_GROUP,
  };
  let found: DeadLetterEntry | undefined;
  await waitUntil(
    async () => {
      found = (await readDeadLetters(source)).find(
        (entry) =>
          entry.sourceTopic === topic('escrow.orders.v1') &&
          entry.sourcePartition === where.partition &&
          entry.sourceOffset === where.offset,
      );
      return found !== undefined;
    },
    45_000,
    `the dead letter of ${topic('escrow.orders.v1')}@${where.partition}:${where.offset}`,
  );
  return found!;
}

const orderOpened = (orderId: string) =>
  waitUntil(
    async () => (await ctx.db('orders').where({ order_id: orderId }).first()) !== undefined,
    45_000,
    `the ORDER_OPENED of ${orderId} behind the large value being processed`,
  );

test('a value 512 bytes under max.message.bytes is dead-lettered cut to a prefix, the reason says so, replay refuses it, and the partition goes on', async () => {
  const limit = await topicConfig(topic('escrow.orders.v1'));
  const size = limit - 512;
  const huge = Buffer.alloc(size, 0x7b); // '{' × size: not the Confluent wire format
  const where = await sendThenOpen('o-huge', huge);
  await orderOpened('o-huge');

  const entry = await deadLetterAt(where);
  expect(entry.originalValue).toEqual(huge.subarray(0, VALUE_PREFIX_BYTES));
  expect(entry.originalKey).toEqual(Buffer.from('o-huge'));
  expect(entry.originalHeaders).toEqual({ 'trace-id': 'trace-o-huge' });
  expect(entry.reason).toMatch(/^the value is not in the Confluent wire format/);
  expect(entry.reason).toContain(
    `original value of ${size} bytes truncated to ${VALUE_PREFIX_BYTES} bytes (sha256 ${sha256(huge)})`,
  );
  expect(entry.reason).toContain(
    `the whole message is at ${topic('escrow.orders.v1')} partition ${where.partition} offset ${where.offset}`,
  );
  expect(entry.truncated).toBe(
    `the original value of ${size} bytes (sha256 ${sha256(huge)}) is cut to its first ${VALUE_PREFIX_BYTES} bytes`,
  );

  // The tool: unreplayable, by id and even with --force; --all skips it.
  const entries = await readDeadLetters({
    kafka,
    codec,
    topicPrefix: ctx.config.TOPIC_PREFIX,
    consumerGroup: ctx.config.CONSUMER_GROUP,
  });
  const states = await replayStates(entries, {
    codec,
    db: ctx.db,
    topicPrefix: ctx.config.TOPIC_PREFIX,
  });
  const state = states[entries.findIndex((candidate) => candidate.id === entry.id)];
  expect(state).toEqual({
    state: 'unreplayable',
    why: expect.stringContaining('the DLQ keeps only part of the original message') as string,
  });
  const prefix = ctx.config.TOPIC_PREFIX;
  expect(() => planReplay(entries, states, { ids: [entry.id], force: true }, prefix)).toThrow(
    expect.objectContaining({ code: 'DLQ_NOT_REPLAYABLE' }) as Error,
  );
  const all = planReplay(entries, states, { all: true, filter: {}, force: true }, prefix);
  expect(all.send.map((item) => item.entry.id)).not.toContain(entry.id);

  const replay = await runCli(['dlq', 'replay', '--id', entry.id, '--force'], {
    ...process.env,
    KAFKA_BROKERS: ctx.config.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: ctx.config.SCHEMA_REGISTRY_URL,
    DATABASE_URL: ctx.config.DATABASE_URL,
    TOPIC_PREFIX: prefix,
    CONSUMER_GROUP: ctx.config.CONSUMER_GROUP,
    LOG_LEVEL: 'warn',
  });
  expect(replay.code).toBe(1);
  expect(replay.stderr).toContain(`Nothing was replayed: ${entry.id}: the DLQ keeps only part`);
  expect(replay.stderr).toContain(
    `kafka-console-consumer --topic ${topic('escrow.orders.v1')} --partition ${where.partition} --offset ${where.offset}`,
  );
  expect(replay.stderr).toContain('--force does not send them');
}, 150_000);

test('the dead letter carries truncation headers beside the dlq-source ones', async () => {
  const letters = await collectMessages(
    kafka,
    `${ctx.config.CONSUMER_GROUP}-headers`,
    [topic('escrow.dlq.v1')],
    (all) => all.some((r) => r.message.key?.toString() === 'o-huge'),
  );
  const headers = letters.find((r) => r.message.key?.toString() === 'o-huge')!.message.headers!;
  expect(Number(headers[TRUNCATION_HEADERS.valueBytes]?.toString())).toBeGreaterThan(1_000_000);
  expect(headers[TRUNCATION_HEADERS.valueSha256]?.toString()).toMatch(/^[0-9a-f]{64}$/);
  expect(headers[TRUNCATION_HEADERS.keyBytes]).toBeUndefined();
  expect(headers['dlq-reason']?.toString()).toMatch(
    /^the value is not in the Confluent wire format/,
  );
}, 60_000);

test('when the DLQ topic refuses even the fitted dead letter (MESSAGE_TOO_LARGE), it is sent without the value and the partition goes on', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic('escrow.dlq.v1'),
          configEntries: [{ name: 'max.message.bytes', value: '16384' }],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  // 100 KiB is kept whole by the worker's own budget; this DLQ topic takes 16 KiB.
  const value = Buffer.alloc(100 * 1024, 0x41);
  const where = await sendThenOpen('o-refused', value);
  await orderOpened('o-refused');

  const entry = await deadLetterAt(where);
  expect(entry.originalValue).toBeNull();
  expect(entry.originalKey).toEqual(Buffer.from('o-refused'));
  expect(entry.reason).toMatch(/^the value is not in the Confluent wire format/);
  expect(entry.reason).toContain('(MESSAGE_TOO_LARGE: ');
  expect(entry.reason).toContain(
    `original value of ${value.length} bytes left out (sha256 ${sha256(value)})`,
  );
  expect(entry.truncated).toBe(
    `the original value of ${value.length} bytes (sha256 ${sha256(value)}) is left out`,
  );
}, 150_000);
