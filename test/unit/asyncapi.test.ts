/** The AsyncAPI document names every topic and points at the schema each one is encoded with. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';

const docs = path.resolve(__dirname, '..', '..', 'docs');
const document = parse(readFileSync(path.join(docs, 'asyncapi.yaml'), 'utf8')) as {
  channels: Record<
    string,
    { subscribe?: { message: { $ref: string } }; publish?: { message: { $ref: string } } }
  >;
  components: {
    messages: Record<string, { payload: { $ref: string }; traits?: { $ref: string }[] }>;
  };
};

// AsyncAPI 2 operations are the clients' view: they publish events to escrow-worker and
// subscribe to its outcomes.
test('clients publish to every inbound topic and subscribe to every outbound one', () => {
  expect(Object.keys(document.channels).sort()).toEqual(
    [...inboundTopics, ...outboundTopics].sort(),
  );
  const operations = (topic: string) =>
    Object.keys(document.channels[topic]!).filter((key) => key !== 'description');
  for (const topic of inboundTopics)
    expect([topic, operations(topic)]).toEqual([topic, ['publish']]);
  for (const topic of outboundTopics)
    expect([topic, operations(topic)]).toEqual([topic, ['subscribe']]);
});

test("each channel's message payload is that topic's Avro schema file, which exists", () => {
  for (const [topic, channel] of Object.entries(document.channels)) {
    const messageName = (channel.subscribe ?? channel.publish)!.message.$ref.split('/').pop()!;
    const payload = document.components.messages[messageName]!.payload.$ref;
    expect(payload).toBe(`../schemas/${topic}.avsc`);
    expect(existsSync(path.join(docs, payload))).toBe(true);
    const schema = JSON.parse(readFileSync(path.join(docs, payload), 'utf8')) as { name: string };
    expect(schema.name).toBe(messageName);
  }
});

test('outcome messages declare the outcome-id header consumers dedupe on', () => {
  for (const topic of ['escrow.payouts.v1', 'escrow.refunds.v1', 'escrow.events.v1']) {
    const messageName = document.channels[topic]!.subscribe!.message.$ref.split('/').pop()!;
    const traits = document.components.messages[messageName]!.traits!.map((trait) => trait.$ref);
    expect(traits).toContain('#/components/messageTraits/outcome');
  }
});
