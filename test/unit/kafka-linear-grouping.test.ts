/**
 * The linear grouping of messages per partition (src/kafka/linear-grouping.ts):
 * the same result as KafkaJS's own on any input. Jest's module registry
 * ignores require.cache, so KafkaJS's own grouping is loaded here as it ships;
 * that KafkaJS's producer uses the linear one in a Node process that imports
 * the Kafka client is checked in test/unit/kafka/kafkajs-patches.test.ts.
 */
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { groupMessagesPerPartition, type GroupingInput } from '../../src/kafka/linear-grouping';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaJsGrouping = require('kafkajs/src/producer/groupMessagesPerPartition') as (
  input: GroupingInput,
) => Record<string, object[]>;

test("KafkaJS's own grouping is what this test compares with (Jest ignores require.cache)", () => {
  expect(kafkaJsGrouping).not.toBe(groupMessagesPerPartition);
  expect(kafkaJsGrouping.toString()).toContain('[...current, message]');
});

const message = fc.record({
  key: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
  value: fc.string({ maxLength: 4 }),
  partition: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
});

/**
 * KafkaJS's murmur2 partitioner for keyed messages (a message's own partition
 * when it names one); unkeyed ones go round robin from 0, where KafkaJS's
 * starts at random, so that two groupings of one input partition it alike.
 */
function partitionerOf(): GroupingInput['partitioner'] {
  const murmur2 = Partitioners.DefaultPartitioner() as GroupingInput['partitioner'];
  let next = 0;
  return (input) => {
    const { key, partition } = input.message as { key: string | null; partition?: number };
    if (key !== null || partition !== undefined) return murmur2(input);
    return next++ % input.partitionMetadata.length;
  };
}

test('the same partitions, in the same key order, with the same messages in input order, as KafkaJS', () => {
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 300 }),
      fc.integer({ min: 0, max: 8 }),
      (messages, partitions) => {
        const input = {
          topic: 'escrow.events.v1',
          partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
            partitionId,
            leader: 0,
          })),
          messages,
        };
        const expected = kafkaJsGrouping({ ...input, partitioner: partitionerOf() });
        const grouped = groupMessagesPerPartition({ ...input, partitioner: partitionerOf() });
        expect(Object.keys(grouped)).toEqual(Object.keys(expected));
        for (const partition of Object.keys(expected)) {
          const same = grouped[partition]!.every(
            (item, index) => item === expected[partition]![index],
          );
          expect([grouped[partition]!.length, same]).toEqual([expected[partition]!.length, true]);
        }
        if (partitions === 0) expect(grouped).toEqual({});
        else expect(Object.values(grouped).flat()).toHaveLength(messages.length);
      },
    ),
    { numRuns: 300 },
  );
});
