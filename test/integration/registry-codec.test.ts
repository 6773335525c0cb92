/**
 * The codec on the real registry: schemas registered under the prefixed
 * subjects, every fixture through the wire format and back, each kind of
 * undecodable value told apart with its reason, and an unreachable registry
 * reported as transient rather than as a bad message.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { RegistryCodec, RegistryUnavailable } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics, subjectOf } from '../../src/codec/schemas';
import { inboundValidators } from '../../src/messages/inbound';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
let codec: RegistryCodec;

beforeAll(async () => {
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
});

test('every topic has its schema under <prefix><topic>-value with BACKWARD compatibility, and registering again is harmless', async () => {
  const subjects = (await (
    await fetch(`${ctx.config.SCHEMA_REGISTRY_URL}/subjects`)
  ).json()) as string[];
  for (const topic of [...inboundTopics, ...outboundTopics]) {
    expect(subjects).toContain(subjectOf(ctx.config.TOPIC_PREFIX, topic));
  }
  const config = (await (
    await fetch(
      `${ctx.config.SCHEMA_REGISTRY_URL}/config/${subjectOf(ctx.config.TOPIC_PREFIX, 'escrow.orders.v1')}`,
    )
  ).json()) as { compatibilityLevel: string };
  expect(config.compatibilityLevel).toBe('BACKWARD');
  await expect(codec.registerSchemas([...inboundTopics])).resolves.toBeUndefined();
});

test('workers starting together on a new prefix each register or find every schema: the one that loses the race learns the same ids', async () => {
  const prefix = `${ctx.config.TOPIC_PREFIX}race-${Date.now()}.`;
  const topics = [...inboundTopics, ...outboundTopics];
  const starting = Array.from(
    { length: 4 },
    () => new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, prefix),
  );
  await Promise.all(starting.map((each) => each.registerSchemas(topics)));
  // The id each writes into the wire format's header, for every inbound topic.
  const ids = await Promise.all(
    starting.map((each) =>
      Promise.all(
        inboundTopics.map(async (topic) =>
          (await each.encode(topic, validMessages[topic][0])).readInt32BE(1),
        ),
      ),
    ),
  );
  for (const other of ids.slice(1)) expect(other).toEqual(ids[0]);
  expect(new Set(ids[0]).size).toBe(inboundTopics.length);
});

test.each(inboundTopics)(
  '%s: every fixture is encoded, decoded and validated unchanged',
  async (topic) => {
    for (const message of validMessages[topic]) {
      const decoded = await codec.decode(topic, await codec.encode(topic, message));
      expect(decoded).toEqual({ ok: true, value: message });
      expect(inboundValidators[topic].parse(decoded.ok ? decoded.value : undefined)).toEqual(
        message,
      );
    }
  },
);

test('garbage bytes, a tombstone and an unknown schema id are undecodable, each with its reason', async () => {
  const topic = 'escrow.orders.v1';
  expect(await codec.decode(topic, Buffer.from('{"orderId":"o-1"}'))).toEqual({
    ok: false,
    reason: expect.stringContaining('not in the Confluent wire format') as string,
  });
  expect(await codec.decode(topic, null)).toEqual({
    ok: false,
    reason: expect.stringContaining('tombstone') as string,
  });
  const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 2, 4]);
  expect(await codec.decode(topic, unknownId)).toEqual({
    ok: false,
    reason: expect.stringContaining(`schema id ${0x7fffff00} is not registered`) as string,
  });
});

test("a value written with another topic's schema does not decode as this topic's", async () => {
  const payment = await codec.encode(
    'escrow.payment-confirmed.v1',
    validMessages['escrow.payment-confirmed.v1'][0],
  );
  const decoded = await codec.decode('escrow.orders.v1', payment);
  expect(decoded.ok).toBe(false);
  expect(decoded.ok ? '' : decoded.reason).toContain(
    'cannot be decoded with the escrow.orders.v1 schema',
  );
});

test('decodeKnown answers at once only what decode would: nothing before a schema id was looked up, or for bytes that do not decode', async () => {
  const fresh = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  const topic = 'escrow.orders.v1';
  const value = await codec.encode(topic, validMessages[topic][0]);
  // Not looked up yet: the caller must wait for decode.
  expect(fresh.decodeKnown(topic, value)).toBeUndefined();
  const decoded = await fresh.decode(topic, value);
  expect(decoded.ok).toBe(true);
  expect(fresh.decodeKnown(topic, value)).toEqual(decoded);
  // Looked up for one topic is not looked up for another.
  expect(fresh.decodeKnown('escrow.payment-confirmed.v1', value)).toBeUndefined();
  // The wire format's refusals are the same at once.
  for (const bad of [null, Buffer.alloc(0), Buffer.from('{"orderId":"o-1"}')])
    expect(fresh.decodeKnown(topic, bad)).toEqual(await fresh.decode(topic, bad));
  // A known id with bytes that do not decode: left to decode, which says why.
  const truncated = value.subarray(0, 7);
  expect(fresh.decodeKnown(topic, truncated)).toBeUndefined();
  expect(await fresh.decode(topic, truncated)).toMatchObject({ ok: false });
});

test('an unreachable registry is transient: RegistryUnavailable, retryable, not a reason to dead-letter', async () => {
  const offline = new RegistryCodec('http://127.0.0.1:1', ctx.config.TOPIC_PREFIX);
  const value = await codec.encode('escrow.orders.v1', validMessages['escrow.orders.v1'][0]);
  const failure = offline.decode('escrow.orders.v1', value);
  await expect(failure).rejects.toBeInstanceOf(RegistryUnavailable);
  await expect(failure).rejects.toMatchObject({ retryable: true });
});

test('a registered version this worker cannot read BACKWARD-compatibly stops registration with the fix named', async () => {
  const prefix = `${ctx.config.TOPIC_PREFIX}old-`;
  const subject = subjectOf(prefix, 'escrow.milestone-reached.v1');
  const registry = new SchemaRegistry({ host: ctx.config.SCHEMA_REGISTRY_URL });
  const older = {
    type: 'record',
    name: 'MilestoneReached',
    namespace: 'io.escrowworker.milestones',
    fields: [{ name: 'eventId', type: 'string' }],
  };
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(older) }, { subject });
  const refused = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, prefix).registerSchemas([
    'escrow.milestone-reached.v1',
  ]);
  await expect(refused).rejects.toThrow(
    /not BACKWARD compatible with schemas\/escrow\.milestone-reached\.v1\.avsc; make the change compatible/,
  );
});
