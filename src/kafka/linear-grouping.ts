/**
 * KafkaJS groups each topic's messages by partition before every send with a
 * reduce that copies the partition's messages so far for every message it
 * adds (`[...current, message]`, kafkajs/src/producer/groupMessagesPerPartition.js):
 * quadratic in a partition's share of one send. The fix (tulios/kafkajs#1576)
 * was never merged and KafkaJS has had no release since 2023, so this module
 * has a linear grouping with the same result, which src/kafka/kafkajs-patches.ts
 * puts where KafkaJS's producer (sendMessages.js) finds it.
 */

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
