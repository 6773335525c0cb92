/**
 * The worker's topics at start: the missing ones are created, and the
 * inbound ones must all have the same number of partitions, because a lane
 * (src/kafka/lane-assigner.ts) is partition i of every inbound topic: with
 * the same count and the same key (`orderId`) and partitioner, partition i of
 * each holds the same orders. A missing inbound topic is created with the
 * count the existing ones share, so a topic added by an upgrade matches them;
 * unequal counts stop the start with the topics, their counts and the fix.
 */
import type { Admin } from 'kafkajs';

/** Partitions of a topic the worker creates when no inbound topic exists yet. */
export const DEFAULT_PARTITIONS = 3;

/** The inbound topics' partition counts differ: lanes would not hold whole orders. */
export class LanePartitionsError extends Error {
  readonly code = 'INBOUND_PARTITIONS_DIFFER';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'LanePartitionsError';
  }
}

/** The check alone: throws LanePartitionsError unless every count is the same. */
export function checkEqualPartitions(counts: ReadonlyMap<string, number>): void {
  const distinct = new Set(counts.values());
  if (distinct.size <= 1) return;
  const most = Math.max(...distinct);
  const listed = [...counts].map(([topic, count]) => `${topic} has ${count}`).join(', ');
  const smaller = [...counts].filter(([, count]) => count < most).map(([topic]) => topic);
  throw new LanePartitionsError(
    `the inbound topics must all have the same number of partitions, so that partition i of ` +
      `each holds the same orders (the worker's lanes): ${listed}. Give ${smaller.join(', ')} ` +
      `${most} partitions (kafka-topics.sh --alter --topic <name> --partitions ${most}), ` +
      `ideally while the worker's lag is 0: adding partitions moves keys, so an order's ` +
      `later events may land in another partition than its earlier ones`,
  );
}

/**
 * Creates the missing topics (inbound ones with the existing inbound count,
 * else DEFAULT_PARTITIONS; outbound ones with DEFAULT_PARTITIONS), then checks
 * the inbound counts. Returns the inbound topics' partition count.
 */
export async function ensureTopics(
  admin: Admin,
  inbound: readonly string[],
  outbound: readonly string[],
): Promise<number> {
  const existing = new Set(await admin.listTopics());
  const counts = await partitionCounts(
    admin,
    inbound.filter((topic) => existing.has(topic)),
  );
  checkEqualPartitions(counts);
  const inboundPartitions = counts.values().next().value ?? DEFAULT_PARTITIONS;
  const missing = [
    ...inbound.map((topic) => ({ topic, numPartitions: inboundPartitions })),
    ...outbound.map((topic) => ({ topic, numPartitions: DEFAULT_PARTITIONS })),
  ].filter(({ topic }) => !existing.has(topic));
  if (missing.length === 0) return inboundPartitions;
  // Another worker starting at once may create them first; createTopics leaves existing ones alone.
  await admin.createTopics({ topics: missing, waitForLeaders: true });
  // Read again: a topic created meanwhile by someone else may have another count.
  const after = await partitionCounts(admin, inbound);
  checkEqualPartitions(after);
  return after.values().next().value ?? inboundPartitions;
}

async function partitionCounts(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  return new Map(metadata.map(({ name, partitions }) => [name, partitions.length]));
}
