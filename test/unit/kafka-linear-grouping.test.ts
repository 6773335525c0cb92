/**
 * The linear grouping of messages per partition (src/kafka/linear-grouping.ts):
 * the same result as KafkaJS's own on any input, and the function KafkaJS's
 * producer uses in a Node process that imports the Kafka client. Jest's
 * module registry ignores require.cache, so KafkaJS's own grouping is loaded
 * here as it ships, and the installation is checked in child processes.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import {
  groupMessagesPerPartition,
  type GroupingInput,
  installLinearGrouping,
} from '../../src/kafka/linear-grouping';

const root = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaJsGrouping = require('kafkajs/src/producer/groupMessagesPerPartition') as (
  input: GroupingInput,
) => Record<string, object[]>;

test("KafkaJS's own grouping is what this test compares with (Jest ignores require.cache)", () => {
  expect(installLinearGrouping()).toBe('not-node');
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

/** Runs `code` in a fresh Node process with tsx, from the repository's root; its stdout and exit code. */
function inNode(code: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

test("KafkaJS's producer requires the linear grouping once the Kafka client is imported", () => {
  const run = inNode(`
    require('./src/kafka/client.ts');
    const { groupMessagesPerPartition, kafkaJsModules } = require('./src/kafka/linear-grouping.ts');
    const producer = require.cache[kafkaJsModules.sendMessages];
    const grouping = producer.children.find((child) => child.filename === kafkaJsModules.grouping);
    console.log(JSON.stringify({
      producerUsesIt: grouping.exports === groupMessagesPerPartition,
      requireGivesIt: require('kafkajs/src/producer/groupMessagesPerPartition') === groupMessagesPerPartition,
    }));
  `);
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({ producerUsesIt: true, requireGivesIt: true });
});

test('imported after KafkaJS, it refuses to start, naming the import order to fix', () => {
  const run = inNode(`
    require('kafkajs');
    try {
      require('./src/kafka/linear-grouping.ts');
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message }));
    }
  `);
  const refusal = JSON.parse(run.stdout) as { code: string; message: string };
  expect(refusal.code).toBe('KAFKAJS_LOADED_FIRST');
  expect(refusal.message).toContain("import './kafka/linear-grouping'");
});
