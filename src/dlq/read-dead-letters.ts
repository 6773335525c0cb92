/**
 * Reads the whole DLQ topic, from the beginning up to the high watermarks
 * current when the read starts, without touching any consumer group that the
 * worker or anyone else uses.
 *
 * KafkaJS cannot assign partitions without a group, so the read joins a
 * throwaway group of its own (named after CONSUMER_GROUP, so ACLs granted on
 * that prefix cover it, plus a random suffix), never commits an offset in it,
 * and deletes it afterwards. Partitions that are empty are not waited for;
 * the read ends as soon as every other partition reached its watermark.
 *
 * readNewestDeadLetters bounds the read for the operations console: only the
 * newest N messages of each partition (the consumer seeks there), and how
 * many the topic holds in all.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import { DLQ_TOPIC } from '../messages/dead-letter';
import { type DeadLetterEntry, toDeadLetterEntry } from './dead-letter';
import { DlqError } from './errors';

export interface DeadLetterSource {
  readonly kafka: Kafka;
  readonly codec: RegistryCodec;
  readonly topicPrefix: string;
  /** The deployment's CONSUMER_GROUP: the throwaway group is named after it. */
  readonly consumerGroup: string;
  /** How long the read may take before it gives up naming the partitions it did not finish. */
  readonly timeoutMs?: number;
  readonly onWarning?: (message: string) => void;
}

interface Raw {
  partition: number;
  message: KafkaMessage;
}

/** Every entry of the DLQ, oldest first (by deadLetteredAt, then partition and offset). */
export async function readDeadLetters(source: DeadLetterSource): Promise<DeadLetterEntry[]> {
  return (await readFrom(source, undefined)).entries;
}

/**
 * The newest `perPartition` entries of each DLQ partition, oldest first, and
 * how many entries the topic holds in all (the read's high watermarks less
 * the partitions' first offsets).
 */
export async function readNewestDeadLetters(
  source: DeadLetterSource,
  perPartition: number,
): Promise<{ entries: DeadLetterEntry[]; total: number }> {
  return readFrom(source, perPartition);
}

async function readFrom(
  source: DeadLetterSource,
  perPartition: number | undefined,
): Promise<{ entries: DeadLetterEntry[]; total: number }> {
  const dlqTopic = `${source.topicPrefix}${DLQ_TOPIC}`;
  const ranges = await partitionRanges(source.kafka, dlqTopic);
  const total = [...ranges.values()].reduce((sum, { low, high }) => sum + Number(high - low), 0);
  if (ranges.size === 0) return { entries: [], total };
  const starts = new Map(
    [...ranges].map(([partition, { low, high }]) => [
      partition,
      perPartition === undefined || high - low <= BigInt(perPartition)
        ? low
        : high - BigInt(perPartition),
    ]),
  );

  const raw = await consumeUpTo(
    source,
    dlqTopic,
    new Map([...ranges].map(([partition, { high }]) => [partition, high])),
    starts,
  );
  const entries: DeadLetterEntry[] = [];
  for (const { partition, message } of raw) {
    entries.push(await toDeadLetterEntry(source.codec, dlqTopic, partition, message));
  }
  entries.sort(
    (a, b) =>
      a.deadLetteredAt.localeCompare(b.deadLetteredAt) ||
      a.partition - b.partition ||
      Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  return { entries, total };
}

/** Partition → its first offset and high watermark, for the partitions that hold at least one message. */
async function partitionRanges(
  kafka: Kafka,
  topic: string,
): Promise<Map<number, { low: bigint; high: bigint }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // No worker has run with this prefix yet: nothing was ever dead-lettered.
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(
      offsets
        .filter(({ high, low }) => BigInt(high) > BigInt(low))
        .map(({ partition, high, low }) => [partition, { low: BigInt(low), high: BigInt(high) }]),
    );
  } finally {
    await admin.disconnect();
  }
}

async function consumeUpTo(
  source: DeadLetterSource,
  topic: string,
  highs: ReadonlyMap<number, bigint>,
  starts: ReadonlyMap<number, bigint>,
): Promise<Raw[]> {
  const groupId = `${source.consumerGroup}-dlq-tool-${randomBytes(6).toString('hex')}`;
  const consumer = source.kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const unfinished = new Map(highs);
  const raw: Raw[] = [];
  const timeoutMs = source.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(incomplete(topic, unfinished, raw, timeoutMs)), timeoutMs);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) reject(payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ partition, message }) => {
            const high = unfinished.get(partition);
            // Messages that arrived after the read started are left for the next read;
            // those before a partition's start may arrive before the seek takes effect.
            if (high === undefined || BigInt(message.offset) >= high) return Promise.resolve();
            if (BigInt(message.offset) < (starts.get(partition) ?? 0n)) return Promise.resolve();
            raw.push({ partition, message });
            if (BigInt(message.offset) + 1n >= high) unfinished.delete(partition);
            if (unfinished.size === 0) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
      // Synchronously after run(): KafkaJS takes a seek once run has made the consumer's group.
      for (const [partition, start] of starts) {
        consumer.seek({ topic, partition, offset: start.toString() });
      }
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await deleteGroup(source, groupId);
  }
  return raw;
}

async function deleteGroup(source: DeadLetterSource, groupId: string): Promise<void> {
  const admin = source.kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (error) {
    // It never committed an offset, so a leftover group holds nothing; say so and go on.
    source.onWarning?.(
      `the throwaway consumer group ${groupId} could not be deleted (${(error as Error).message}); ` +
        'it holds no offsets and the broker expires it; delete it with kafka-consumer-groups --delete if you prefer',
    );
  } finally {
    await admin.disconnect();
  }
}

function incomplete(
  topic: string,
  unfinished: ReadonlyMap<number, bigint>,
  raw: readonly Raw[],
  timeoutMs: number,
): DlqError {
  const reached = (partition: number) =>
    raw.filter((entry) => entry.partition === partition).at(-1)?.message.offset ?? 'nothing';
  const missing = [...unfinished]
    .map(
      ([partition, high]) =>
        `partition ${partition} (read to ${reached(partition)}, high watermark ${high})`,
    )
    .join(', ');
  return new DlqError(
    'DLQ_READ_INCOMPLETE',
    `Reading ${topic} did not reach the end of ${missing} within ${timeoutMs / 1000} s: ` +
      'the broker may be slow or a partition has no leader; check the broker and run the command again',
  );
}
