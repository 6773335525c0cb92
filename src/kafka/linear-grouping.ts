/**
 * KafkaJS groups each topic's messages by partition before every send with a
 * reduce that copies the partition's messages so far for every message it
 * adds (`[...current, message]`, kafkajs/src/producer/groupMessagesPerPartition.js):
 * quadratic in a partition's share of one send. The fix (tulios/kafkajs#1576)
 * was never merged and KafkaJS has had no release since 2023, so this module
 * puts a linear grouping with the same result in its place: it enters the
 * module under KafkaJS's own resolved path into Node's module cache, where
 * KafkaJS's producer (sendMessages.js) finds it when it is first required.
 *
 * That works only before the producer is loaded, so this module is the first
 * import of src/kafka/client.ts and src/main.ts. If the producer is loaded
 * already, the import throws KafkaJsLoadedFirst, naming the fix: an import
 * order that loses the grouping is a mistake in the code, made the same way on
 * every start, and a start that fails at once shows it where a warning would
 * let the quadratic cost come back unseen. Under Jest, whose module registry
 * ignores writes to require.cache, nothing is installed and nothing thrown:
 * KafkaJS's own grouping runs there, with the same result.
 */
import Module from 'node:module';

/** KafkaJS's message as grouping sees it: only the partitioner reads it. */
type Message = object;

export interface GroupingInput<M extends Message = Message> {
  readonly topic: string;
  readonly partitionMetadata: readonly unknown[];
  readonly messages: readonly M[];
  readonly partitioner: (input: {
    topic: string;
    partitionMetadata: readonly unknown[];
    message: M;
  }) => number;
}

const marker = Symbol.for('escrow-worker.kafkajs-linear-grouping');

/**
 * What KafkaJS's groupMessagesPerPartition returns, in one pass: an object
 * from partition to its messages in input order; {} when there is no
 * partition metadata.
 */
export function groupMessagesPerPartition<M extends Message>(
  input: GroupingInput<M>,
): Record<string, M[]> {
  const { topic, partitionMetadata, messages, partitioner } = input;
  if (partitionMetadata.length === 0) return {};
  const grouped: Record<string, M[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = grouped[partition];
    if (list === undefined) grouped[partition] = [message];
    else list.push(message);
  }
  return grouped;
}
Object.defineProperty(groupMessagesPerPartition, marker, { value: true });

export class KafkaJsLoadedFirst extends Error {
  readonly code = 'KAFKAJS_LOADED_FIRST';
  readonly retryable = false;
  constructor() {
    super(
      "KafkaJS's producer (kafkajs/src/producer/sendMessages.js) was loaded before " +
        'src/kafka/linear-grouping.ts, so it keeps grouping messages per partition in quadratic ' +
        "time: import './kafka/linear-grouping' (or src/kafka/client.ts) in the entry file before " +
        'anything that imports kafkajs.',
    );
    this.name = 'KafkaJsLoadedFirst';
  }
}

/** KafkaJS's module files by their resolved paths: the keys of Node's module cache. */
export const kafkaJsModules = {
  grouping: require.resolve('kafkajs/src/producer/groupMessagesPerPartition'),
  sendMessages: require.resolve('kafkajs/src/producer/sendMessages'),
};

const isLinear = (exported: unknown) =>
  typeof exported === 'function' && marker in (exported as object);

/**
 * Installs the linear grouping in Node's module cache; 'installed' when
 * KafkaJS's producer will use it (or already does: another copy of this module
 * installed it), 'not-node' under a module system that ignores require.cache.
 */
export function installLinearGrouping(): 'installed' | 'not-node' {
  const nodeCache = (Module as unknown as { _cache: NodeJS.Dict<NodeJS.Module> })._cache;
  if (require.cache !== nodeCache) return 'not-node';
  if (isLinear(nodeCache[kafkaJsModules.grouping]?.exports)) return 'installed';
  if (nodeCache[kafkaJsModules.sendMessages] !== undefined) throw new KafkaJsLoadedFirst();
  const replacement = new Module(kafkaJsModules.grouping);
  replacement.filename = kafkaJsModules.grouping;
  replacement.exports = groupMessagesPerPartition;
  replacement.loaded = true;
  nodeCache[kafkaJsModules.grouping] = replacement;
  return 'installed';
}

installLinearGrouping();
