/**
 * What reached Kafka, read as a downstream consumer would: every outcome in
 * the outbox published at least once on its topic (found by its outcome-id
 * header), nothing on a topic that the outbox does not hold, every copy of a
 * republished outcome the same bytes; every injected bad message
 * dead-lettered with a reason (found by its source topic, partition and
 * offset, through the DLQ tool's reader), and nothing valid dead-lettered.
 * The messages read are returned for the money checks (check-outbound.ts).
 */
import type { Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import type { RegistryCodec } from '../../src/codec/registry-codec';
import { outcomeTopics } from '../../src/demo/outcome-listener';
import { readDeadLetters } from '../../src/dlq/read-dead-letters';
import type { SentBadMessage } from './driver';
import type { Findings } from './findings';

/** One message on an outcome topic, as it was read. */
export interface PublishedMessage {
  /** Without the run's prefix. */
  topic: (typeof outcomeTopics)[number];
  outcomeId: string | undefined;
  partition: number;
  offset: string;
  value: Buffer | null;
}

export interface TopicFigures {
  /** Every message on the outcome topics, republished copies included. */
  published: PublishedMessage[];
  outcomesPublished: number;
  outcomesRepublished: number;
  deadLetters: number;
  /** The reason the worker gave for each kind of bad message (the first one seen). */
  reasonByKind: Map<string, string>;
  /** Not discrepancies, but worth a look: bad input the worker filed as its own defect. */
  notes: string[];
}

export async function checkTopics(
  deps: { db: Knex; kafka: Kafka; codec: RegistryCodec; prefix: string; groupPrefix: string },
  bad: readonly SentBadMessage[],
  findings: Findings,
): Promise<TopicFigures> {
  findings.check('outbox_all_published', 'every committed outcome was marked published');
  const [unpublished] = await deps
    .db('outbox')
    .whereNull('published_at')
    .count<{ n: string }[]>({ n: '*' });
  if (Number(unpublished?.n) > 0)
    findings.add(
      'outbox_all_published',
      `${unpublished?.n} outbox rows never published`,
      Number(unpublished?.n),
    );

  findings.check(
    'outcomes_on_topics',
    'every outbox outcome_id is on its outcome topic at least once',
  );
  const outbox = await deps
    .db('outbox')
    .select<{ outcome_id: string; topic: string }[]>('outcome_id', 'topic');
  const published = await readOutcomes(deps.kafka, deps.prefix, `${deps.groupPrefix}outcome-check`);
  const seen = new Map<string, PublishedMessage>();
  for (const message of published) {
    if (message.outcomeId !== undefined && !seen.has(message.outcomeId))
      seen.set(message.outcomeId, message);
  }
  for (const row of outbox) {
    if (!seen.has(row.outcome_id))
      findings.add(
        'outcomes_on_topics',
        `outcome ${row.outcome_id} (${row.topic}) is in the outbox but not on its topic`,
      );
  }

  findings.check(
    'topic_outcomes_from_outbox',
    'every message on an outcome topic is an outbox outcome on its own topic; every copy of one is the same bytes',
  );
  const topicOf = new Map(outbox.map((row) => [row.outcome_id, row.topic]));
  for (const message of published) {
    const where = `${message.topic} ${message.partition}:${message.offset}`;
    const id = message.outcomeId;
    if (id === undefined) {
      findings.add('topic_outcomes_from_outbox', `${where} has no outcome-id header`);
      continue;
    }
    const stored = topicOf.get(id);
    if (stored === undefined) {
      findings.add('topic_outcomes_from_outbox', `${where}: outcome ${id} is not in the outbox`);
    } else if (stored !== deps.prefix + message.topic) {
      findings.add(
        'topic_outcomes_from_outbox',
        `${where}: outcome ${id} belongs on ${stored}, not ${message.topic}`,
      );
    }
    const first = seen.get(id)!;
    if (first !== message && !sameBytes(first.value, message.value)) {
      findings.add(
        'topic_outcomes_from_outbox',
        `${where}: outcome ${id} was published again with other content than at ${first.topic} ${first.partition}:${first.offset}`,
      );
    }
  }

  findings.check(
    'bad_input_dead_lettered',
    'each undecodable or invalid message is in the DLQ with a reason; nothing valid is',
  );
  const entries = await readDeadLetters({
    kafka: deps.kafka,
    codec: deps.codec,
    topicPrefix: deps.prefix,
    consumerGroup: `${deps.groupPrefix}dlq-check`,
    timeoutMs: 120_000,
  });
  const where = (topic: string, partition: number, offset: string) =>
    `${topic}|${partition}|${offset}`;
  const bySource = new Map(
    entries.map((entry) => [
      where(entry.sourceTopic, entry.sourcePartition, entry.sourceOffset),
      entry,
    ]),
  );
  const reasonByKind = new Map<string, string>();
  const injected = new Set<string>();
  for (const message of bad) {
    const source = where(deps.prefix + message.topic, message.partition, message.offset);
    injected.add(source);
    const entry = bySource.get(source);
    if (entry && !reasonByKind.has(message.kind)) reasonByKind.set(message.kind, entry.reason);
    if (message.expect === 'dead-lettered' && !entry?.reason) {
      findings.add(
        'bad_input_dead_lettered',
        `${message.kind} at ${message.topic} ${message.partition}:${message.offset} is not in the DLQ with a reason`,
      );
    }
    if (typeof message.expect === 'object' && entry) {
      findings.add(
        'bad_input_dead_lettered',
        `${message.kind} should be answered EVENT_REJECTED ${message.expect.rejected}, but was dead-lettered: ${entry.reason}`,
      );
    }
  }
  // The runbook reads "processing failed" as a worker defect to fix and replay; for input
  // that breaks the contract, replaying can never help, so the validator should have said why.
  const notes = [...reasonByKind]
    .filter(([, reason]) => reason.startsWith('processing failed'))
    .map(
      ([kind, reason]) =>
        `${kind} was dead-lettered as a processing failure, not as invalid input: ${abbreviated(reason)}`,
    );
  for (const entry of entries) {
    const source = where(entry.sourceTopic, entry.sourcePartition, entry.sourceOffset);
    if (!injected.has(source)) {
      findings.add(
        'bad_input_dead_lettered',
        `a valid message was dead-lettered (${entry.sourceTopic} ${entry.sourcePartition}:${entry.sourceOffset}): ${entry.reason.slice(0, 300)}`,
      );
    }
  }
  return {
    published,
    outcomesPublished: published.length,
    outcomesRepublished: published.length - seen.size,
    deadLetters: entries.length,
    reasonByKind,
    notes,
  };
}

/** Every message on the outcome topics, up to the high watermarks of when the read began. */
async function readOutcomes(
  kafka: Kafka,
  prefix: string,
  groupId: string,
): Promise<PublishedMessage[]> {
  const topics = outcomeTopics.map((topic) => prefix + topic);
  const admin = kafka.admin();
  await admin.connect();
  const unfinished = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(high) > BigInt(low)) unfinished.set(`${topic}|${partition}`, BigInt(high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const messages: PublishedMessage[] = [];
  if (unfinished.size === 0) return messages;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `reading the outcome topics did not finish within 120 s; left: ${[...unfinished.keys()].join(', ')}`,
            ),
          ),
        120_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: ({ topic, partition, message }) => {
            const slot = `${topic}|${partition}`;
            const high = unfinished.get(slot);
            if (high !== undefined && BigInt(message.offset) < high) {
              messages.push({
                topic: topic.slice(prefix.length) as PublishedMessage['topic'],
                outcomeId: message.headers?.['outcome-id']?.toString(),
                partition,
                offset: message.offset,
                value: message.value,
              });
              if (BigInt(message.offset) + 1n >= high) unfinished.delete(slot);
            }
            if (unfinished.size === 0) resolve();
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return messages;
}

const sameBytes = (a: Buffer | null, b: Buffer | null) =>
  a === null || b === null ? a === b : a.equals(b);

/** Knex puts the SQL first and the database's complaint last: keep both ends of a long reason. */
const abbreviated = (text: string) =>
  text.length <= 240 ? text : `${text.slice(0, 80)} … ${text.slice(-150)}`;
