/** Reading what the worker published, in tests: every message of some topics until enough arrived. */
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface Received {
  topic: string;
  message: KafkaMessage;
}

export async function collectMessages(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  until: (received: Received[]) => boolean,
  timeoutMs = 30_000,
): Promise<Received[]> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true });
  const received: Received[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${received.length} messages arrived within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: ({ topic, message }) => {
          received.push({ topic, message });
          if (until(received)) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

export async function createTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 3 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A consumer that keeps every message of some topics from the beginning until
 * stopped, for tests that wait on several outcomes in turn (one group join,
 * not one per wait).
 */
export async function startCollector(
  kafka: Kafka,
  groupId: string,
  topics: string[],
): Promise<{ received: Received[]; stop: () => Promise<void> }> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true });
  const received: Received[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      received.push({ topic, message });
      return Promise.resolve();
    },
  });
  return { received, stop: () => consumer.disconnect() };
}
