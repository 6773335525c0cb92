/**
 * GET /attention/dead-letters[?limit=N]: the newest dead letters with what
 * replaying each would do today, for the console's attention page. The DLQ
 * lives in Kafka, not the database: this is the `escrow-worker dlq list`
 * tool's read (src/dlq/read-dead-letters.ts) bounded to the newest `limit`
 * messages of each partition, and its replay states (src/dlq/replay-state.ts:
 * the original bytes decoded and validated by this release, the inbox asked
 * whether the event has taken effect since). Replaying stays in the CLI: each
 * entry names its command.
 *
 * Cost: the throwaway consumer group's join and one fetch per partition from
 * its seek; bounded in time by the reader's timeout.
 */
import type { Knex } from 'knex';
import type { Kafka } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import { entryKey, replayOf } from './dead-letter';
import { readNewestDeadLetters } from './read-dead-letters';
import { type ReplayState, replayStates } from './replay-state';
import { DLQ_TOPIC } from '../messages/dead-letter';

export interface DeadLetterView {
  /** "<partition>:<offset>" in the DLQ topic: the id `escrow-worker dlq replay --id` takes. */
  id: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  reason: string;
  deadLetteredAt: string;
  /** The original message key (the order id, for the inbound topics), as text. */
  key: string | null;
  /** The DLQ entry this one is a failed replay of. */
  replayOf: string | null;
  /** What replaying it would do today: pending, done, invalid, conflict or unreplayable. */
  replay: ReplayState;
  /** For a pending entry: the command that replays it. */
  replayCommand: string | null;
}

export interface DeadLettersView {
  /** When the read started (UTC). */
  readAt: string;
  topic: string;
  /** How many dead letters the topic holds in all. */
  total: number;
  /** The most read from each partition. */
  perPartition: number;
  /** Newest first. */
  entries: DeadLetterView[];
}

export interface DeadLetterAccess {
  readonly kafka: Kafka;
  readonly codec: RegistryCodec;
  readonly db: Knex;
  readonly topicPrefix: string;
  readonly consumerGroup: string;
  /** How long a read may take; the console's request waits for it. */
  readonly timeoutMs?: number;
}

export async function deadLettersView(
  access: DeadLetterAccess,
  perPartition: number,
  now: Date,
): Promise<DeadLettersView> {
  const { entries, total } = await readNewestDeadLetters(
    {
      kafka: access.kafka,
      codec: access.codec,
      topicPrefix: access.topicPrefix,
      consumerGroup: access.consumerGroup,
      timeoutMs: access.timeoutMs ?? 20_000,
    },
    perPartition,
  );
  const states = await replayStates(entries, {
    codec: access.codec,
    db: access.db,
    topicPrefix: access.topicPrefix,
  });
  const views = entries.map((entry, index) => {
    const replay = states[index]!;
    return {
      id: entry.id,
      sourceTopic: entry.sourceTopic,
      sourcePartition: entry.sourcePartition,
      sourceOffset: entry.sourceOffset,
      reason: entry.reason,
      deadLetteredAt: entry.deadLetteredAt,
      key: entryKey(entry),
      replayOf: replayOf(entry),
      replay,
      replayCommand:
        replay.state === 'pending' ? `escrow-worker dlq replay --id ${entry.id}` : null,
    };
  });
  return {
    readAt: now.toISOString(),
    topic: `${access.topicPrefix}${DLQ_TOPIC}`,
    total,
    perPartition,
    entries: views.reverse(),
  };
}

/**
 * The reader the operations server is given: requests that arrive while a
 * read is in progress share it (each read joins and deletes a consumer group
 * of its own, which several operators refreshing at once need not multiply).
 */
export function deadLetterReader(
  access: DeadLetterAccess,
): (perPartition: number, now: Date) => Promise<DeadLettersView> {
  const reading = new Map<number, Promise<DeadLettersView>>();
  return (perPartition, now) => {
    let read = reading.get(perPartition);
    if (read === undefined) {
      read = deadLettersView(access, perPartition, now).finally(() => reading.delete(perPartition));
      reading.set(perPartition, read);
    }
    return read;
  };
}
