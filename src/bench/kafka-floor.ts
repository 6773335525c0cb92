/**
 * The Kafka floor: how fast this machine's broker and client move the same
 * inbound messages through a consumer and a producer doing no work at all.
 * A consumer group of its own reads the four inbound topics from the
 * beginning and copies every message, batch by batch, to a scratch topic
 * with the worker's own producer settings (idempotent, acks=all, one request
 * in flight), committing offsets as it goes. Timed from the first batch
 * received to the last copy acknowledged, over as many passes over the
 * messages as it takes to run for at least 2 seconds.
 */
import type { Kafka } from 'kafkajs';
import { inboundTopics } from '../codec/schemas';
import { createProducer } from '../kafka/client';

const minimumMs = 2000;
const maximumPasses = 200;

export interface PassThroughResult {
  readonly eventsPerSecond: number;
  readonly durationMs: number;
  readonly messages: number;
  readonly passes: number;
}

export async function measureKafkaFloor(
  kafka: Kafka,
  options: {
    topicPrefix: string;
    groupId: string;
    scratchTopic: string;
    /** How many inbound messages there are to copy. */
    expected: number;
    timeoutMs: number;
  },
): Promise<PassThroughResult> {
  const topics = inboundTopics.map((topic) => options.topicPrefix + topic);
  const admin = kafka.admin();
  await admin.connect();
  const partitions: { topic: string; partition: number }[] = [];
  try {
    await admin.createTopics({
      topics: [{ topic: options.scratchTopic, numPartitions: 3 }],
      waitForLeaders: true,
    });
    for (const topic of topics) {
      for (const { partition } of await admin.fetchTopicOffsets(topic))
        partitions.push({ topic, partition });
    }
  } finally {
    await admin.disconnect();
  }
  const producer = createProducer(kafka);
  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  let copied = 0;
  let copiedThisPass = 0;
  let passes = 1;
  let firstAt: number | undefined;
  let lastAt = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await producer.connect();
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        firstAt ??= performance.now();
        await producer.send({
          topic: options.scratchTopic,
          acks: -1,
          messages: batch.messages.map(({ key, value, headers }) => ({ key, value, headers })),
        });
        payload.resolveOffset(batch.lastOffset());
        await payload.heartbeat();
        copied += batch.messages.length;
        copiedThisPass += batch.messages.length;
        lastAt = performance.now();
        if (copiedThisPass < options.expected) return;
        // A pass of a small run takes a fraction of a second, too short to time well:
        // the same messages are copied again from the start until the clock has run long enough.
        if (lastAt - firstAt >= minimumMs || passes >= maximumPasses) return finish();
        passes++;
        copiedThisPass = 0;
        for (const at of partitions) consumer.seek({ ...at, offset: '0' });
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the Kafka floor copied ${copied} messages (pass ${passes} of ${options.expected} each) within ` +
                  `${options.timeoutMs / 1000} s; check the broker with \`npm run services:status\``,
              ),
            ),
          options.timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  const durationMs = Math.max(1, lastAt - (firstAt ?? lastAt));
  return { eventsPerSecond: copied / (durationMs / 1000), durationMs, messages: copied, passes };
}
