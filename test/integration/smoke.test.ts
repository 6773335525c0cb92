/**
 * Proves each real part the worker stands on: the schema registry and Kafka
 * (an Avro message through a real topic), Redis (a Redlock lock), Postgres (a
 * Knex transaction), and a broker whose protocol KafkaJS 2.2.4 speaks.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { EachMessagePayload } from 'kafkajs';
import { ExecutionError } from 'redlock';
import { topicName } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import { createLockService } from '../../src/locks/redlock';
import { brokerApiVersions } from '../support/broker-api-versions';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

const smokeSchema = {
  type: 'record',
  name: 'SmokeChecked',
  namespace: 'escrow.test',
  fields: [
    { name: 'eventId', type: 'string' },
    { name: 'amount', type: 'string' },
  ],
};

test('an Avro message goes through the registry and a real topic and comes back decoded', async () => {
  const topic = topicName(ctx.config, 'escrow.smoke.v1');
  const registry = new SchemaRegistry({ host: ctx.config.SCHEMA_REGISTRY_URL });
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(smokeSchema) },
    { subject: `${topic}-value` },
  );
  expect(await registry.getLatestSchemaId(`${topic}-value`)).toBe(id);

  const kafka = createKafka(ctx.config, 'smoke-test');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const value = await registry.encode(id, { eventId: 'evt-1', amount: '1000.00' });
  expect(value.readUInt8(0)).toBe(0); // Confluent wire format: magic byte, then the schema id
  expect(value.readInt32BE(1)).toBe(id);

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key: 'order-1', value }] });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${ctx.config.CONSUMER_GROUP}-smoke` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = new Promise<EachMessagePayload>((resolve) => {
    void consumer.run({
      eachMessage: (payload) => {
        resolve(payload);
        return Promise.resolve();
      },
    });
  });
  const { message } = await received;
  await consumer.disconnect();

  expect(message.key?.toString()).toBe('order-1');
  expect(await registry.decode(message.value!)).toEqual({ eventId: 'evt-1', amount: '1000.00' });
});

test('a Redlock lock on the real Redis is exclusive until released', async () => {
  const locks = createLockService(ctx.config);
  const resource = `${ctx.config.TOPIC_PREFIX}lock:milestone:m-1`;
  try {
    const lock = await locks.redlock.acquire([resource], 5000);
    expect(await locks.clients[0]!.get(resource)).toBe(lock.value);

    await expect(locks.redlock.acquire([resource], 5000, { retryCount: 0 })).rejects.toBeInstanceOf(
      ExecutionError,
    );

    await lock.release();
    expect(await locks.clients[0]!.get(resource)).toBeNull();
    const again = await locks.redlock.acquire([resource], 5000, { retryCount: 0 });
    await again.release();
  } finally {
    await locks.close();
  }
});

test('a Knex transaction on the real Postgres commits what it wrote and a rollback leaves nothing', async () => {
  await ctx.db.schema.createTable('smoke_rows', (table) => {
    table.text('id').primary();
    table.decimal('amount', 20, 4).notNullable();
  });
  await ctx.db.transaction(async (trx) => {
    await trx('smoke_rows').insert({ id: 'kept', amount: '1000.0001' });
    const inside: unknown = await trx('smoke_rows').where({ id: 'kept' }).first();
    expect(inside).toEqual({ id: 'kept', amount: '1000.0001' });
  });
  await expect(
    ctx.db.transaction(async (trx) => {
      await trx('smoke_rows').insert({ id: 'rolled-back', amount: '1.0000' });
      throw new Error('roll back on purpose');
    }),
  ).rejects.toThrow('roll back on purpose');

  const rows = await ctx.db('smoke_rows').orderBy('id');
  // NUMERIC comes back as a string: no amount passes through a JS number.
  expect(rows).toEqual([{ id: 'kept', amount: '1000.0001' }]);
});

test('the broker runs Kafka 4.x and supports every request version KafkaJS sends', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajsRequests = require('kafkajs/src/protocol/requests') as {
    requests: Record<string, { versions: string[] }>;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;
  const broker = await brokerApiVersions(ctx.config.KAFKA_BROKERS[0]!);

  // metadata.version 25 is 4.0-IV3, the level a 4.0 broker formats its storage with.
  expect(broker.finalizedFeatures.get('metadata.version')).toBeGreaterThanOrEqual(25);
  // Kafka 4.0 removed the request versions that predate 2.1 (KIP-896): the broker
  // answers these minimums, so the check below is made against 4.x's floors.
  const raisedMinimums: Record<string, number> = {
    Fetch: 4,
    ListOffsets: 1,
    OffsetCommit: 2,
    OffsetFetch: 1,
    CreateTopics: 2,
    DeleteTopics: 1,
  };
  for (const [name, minimum] of Object.entries(raisedMinimums)) {
    expect({ name, min: broker.apis.get(apiKeys[name]!)?.min }).toEqual({ name, min: minimum });
  }

  const used = [
    'Produce',
    'Fetch',
    'ListOffsets',
    'Metadata',
    'OffsetCommit',
    'OffsetFetch',
    'GroupCoordinator',
    'JoinGroup',
    'Heartbeat',
    'LeaveGroup',
    'SyncGroup',
    'ApiVersions',
    'CreateTopics',
    'DeleteTopics',
    'InitProducerId',
    'DescribeGroups',
    'ListGroups',
    'DeleteGroups',
  ];
  for (const name of used) {
    const supported = broker.apis.get(apiKeys[name]!);
    expect({ name, supported: supported !== undefined }).toEqual({ name, supported: true });
    const newestImplemented = Math.max(...kafkajsRequests.requests[name]!.versions.map(Number));
    const chosen = Math.min(newestImplemented, supported!.max);
    expect({ name, usable: chosen >= supported!.min }).toEqual({ name, usable: true });
  }
});
