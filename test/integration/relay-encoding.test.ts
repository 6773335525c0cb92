/**
 * The relay's encoding on the real registry: for every outbound topic, the
 * codec's encodeAll writes byte for byte what the registry client's encode
 * writes for the id registered under the topic's subject, and a registry
 * client that knows nothing of this codec decodes every value back, whatever
 * the batch's size and however large a value. The values are the worker's
 * own outbox payloads (the bench's stream through the worker's plan, read back
 * from jsonb as the relay reads them, and as they are in memory when the
 * pipeline offers them to the relay) and a dead letter as the DLQ sender
 * fits it.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { FloorModel } from '../../src/bench/db-floor-model';
import { generatePlan } from '../../src/bench/generator';
import { RegistryCodec, ValueNotEncodable } from '../../src/codec/registry-codec';
import { type OutboundTopic, outboundTopics, subjectOf } from '../../src/codec/schemas';
import { fitDeadLetter } from '../../src/pipeline/dead-letter-record';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
let codec: RegistryCodec;
/** A registry client of its own: it learns each schema from the registry, by the id in the bytes. */
let client: SchemaRegistry;
const samples = new Map<OutboundTopic, unknown[]>();
/** The same payloads as the pipeline holds them in memory, before the table's JSON (the relay's offered rows). */
const inMemory = new Map<OutboundTopic, unknown[]>();

const deadLetter = (valueBytes: number) =>
  fitDeadLetter(
    {
      topic: 'escrow.orders.v1',
      partition: 2,
      message: {
        key: Buffer.from('o-1'),
        value: Buffer.alloc(valueBytes, 7),
        headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        offset: '41',
        timestamp: '1780000000000',
        attributes: 0,
      },
    },
    'the value is not in the Confluent wire format',
    { now: new Date('2026-06-01T09:00:00Z') },
  ).record;

beforeAll(async () => {
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas(outboundTopics);
  client = new SchemaRegistry({ host: ctx.config.SCHEMA_REGISTRY_URL });
  const plan = generatePlan({ events: 1500, seed: 'relay-encoding' });
  const model = new FloorModel('0.10', ctx.config.TOPIC_PREFIX, plan.answers);
  const now = new Date('2026-06-01T09:00:00Z');
  for (const event of plan.events) {
    for (const applied of model.applyAnswered(event, now)) {
      for (const row of applied.outbox) {
        const topic = row.topic.slice(ctx.config.TOPIC_PREFIX.length) as OutboundTopic;
        // What the relay reads: the payload as jsonb gives it back.
        const payload = JSON.parse(JSON.stringify(row.payload)) as unknown;
        samples.set(topic, [...(samples.get(topic) ?? []), payload]);
        inMemory.set(topic, [...(inMemory.get(topic) ?? []), row.payload]);
      }
    }
  }
  samples.set('escrow.dlq.v1', [deadLetter(200), deadLetter(300 * 1024)]);
});

test('the samples cover every outbound topic and every outcome type the stream causes', () => {
  expect([...samples.keys()].sort()).toEqual([...outboundTopics].sort());
  const types = new Set(
    samples.get('escrow.events.v1')!.map((value) => (value as { type: string }).type),
  );
  expect(types.size).toBeGreaterThanOrEqual(8);
});

test.each(outboundTopics)(
  '%s: the same bytes as the registry client writes, and its decode reads them back',
  async (topic) => {
    const values = samples.get(topic)!;
    const encoded = codec.encodeAll(values.map((value) => ({ topic, value })));
    const registered = await client.getLatestSchemaId(subjectOf(ctx.config.TOPIC_PREFIX, topic));
    for (const [index, value] of values.entries()) {
      const bytes = encoded[index]!;
      expect([bytes.readUInt8(0), bytes.readInt32BE(1)]).toEqual([0, registered]);
      expect(bytes.equals(await client.encode(registered, value))).toBe(true);
      expect(await client.decode(bytes)).toEqual(value);
    }
  },
);

test('a payload as the pipeline offers it (in memory) is encoded to the bytes of the same payload read back from the table', () => {
  expect(inMemory.size).toBe(outboundTopics.length - 1); // every topic but the DLQ's
  for (const [topic, values] of inMemory) {
    const offered = codec.encodeAll(values.map((value) => ({ topic, value })));
    const read = codec.encodeAll(samples.get(topic)!.map((value) => ({ topic, value })));
    expect(offered.map((bytes) => bytes.toString('hex'))).toEqual(
      read.map((bytes) => bytes.toString('hex')),
    );
  }
});

test('a batch larger than the scratch buffer, topics mixed, each value its own bytes', async () => {
  const mixed = outboundTopics.flatMap((topic) =>
    samples.get(topic)!.map((value) => ({ topic, value })),
  );
  const batch = [...mixed, ...mixed, ...mixed];
  const encoded = codec.encodeAll(batch);
  expect(encoded.reduce((sum, bytes) => sum + bytes.length, 0)).toBeGreaterThan(1024 * 1024);
  const decoded = await Promise.all(encoded.map((bytes) => client.decode(bytes)));
  expect(decoded).toEqual(batch.map(({ value }) => value));
  // One value alone is encoded the same, and the promise of encode resolves to it.
  expect((await codec.encode(batch[1]!.topic, batch[1]!.value)).equals(encoded[1]!)).toBe(true);
});

test('a value its schema cannot write is refused naming the topic and the field', async () => {
  const [payout] = samples.get('escrow.payouts.v1')! as Record<string, unknown>[];
  const broken = { ...payout, netAmount: 12.5 };
  expect(() => codec.encodeAll([{ topic: 'escrow.payouts.v1', value: broken }])).toThrow(
    ValueNotEncodable,
  );
  await expect(codec.encode('escrow.payouts.v1', broken)).rejects.toMatchObject({
    code: 'VALUE_NOT_ENCODABLE',
    fields: ['netAmount'],
  });
});
