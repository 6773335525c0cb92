/**
 * One dead-lettered message as the tools see it: where it sits in the DLQ
 * (its id for replay is "<partition>:<offset>" there, unique and stable for as
 * long as the topic retains it), where it came from, why, and the original
 * key, bytes and headers that a replay sends again.
 */
import type { KafkaMessage } from 'kafkajs';
import type { RegistryCodec } from '../codec/registry-codec';
import { DlqError } from './errors';
import {
  type DeadLetterRecord,
  DLQ_TOPIC,
  REPLAYED_FROM_HEADER,
  TRUNCATION_HEADERS,
} from '../messages/dead-letter';

export interface DeadLetterEntry {
  /** "<partition>:<offset>" in the DLQ topic. */
  readonly id: string;
  readonly dlqTopic: string;
  readonly partition: number;
  readonly offset: string;
  /** Prefixed, as the worker read it. */
  readonly sourceTopic: string;
  readonly sourcePartition: number;
  readonly sourceOffset: string;
  readonly reason: string;
  readonly deadLetteredAt: string;
  readonly originalKey: Buffer | null;
  readonly originalValue: Buffer | null;
  readonly originalHeaders: Readonly<Record<string, string>>;
  /** Set when the DLQ record itself could not be decoded: then only its headers are known. */
  readonly unreadable?: string;
  /**
   * Set when the worker kept only part of the original to fit the DLQ topic:
   * what is missing, e.g. "the value (1048076 bytes, sha256 ab12…) is cut to its first 65536 bytes".
   */
  readonly truncated?: string;
}

export const entryKey = (entry: DeadLetterEntry): string | null =>
  entry.originalKey === null ? null : entry.originalKey.toString('utf8');

/** The DLQ entry this one is a failed replay of, if it is one. */
export const replayOf = (entry: DeadLetterEntry): string | null =>
  entry.originalHeaders[REPLAYED_FROM_HEADER] ?? null;

/**
 * Decodes one DLQ message. A record that does not decode is still listed (from
 * the dlq-* headers the runner writes beside it), never dropped, but it cannot
 * be replayed: its original bytes are not known.
 */
export async function toDeadLetterEntry(
  codec: RegistryCodec,
  dlqTopic: string,
  partition: number,
  message: KafkaMessage,
): Promise<DeadLetterEntry> {
  const where = {
    id: `${partition}:${message.offset}`,
    dlqTopic,
    partition,
    offset: message.offset,
  };
  const header = (name: string) => message.headers?.[name]?.toString() ?? '';
  const marked = (keptValue: Buffer | null | undefined) => {
    const truncated = truncationOf(header, keptValue);
    return truncated === undefined ? {} : { truncated };
  };
  const decoded = await codec.decode(DLQ_TOPIC, message.value);
  if (decoded.ok) {
    const record = decoded.value as DeadLetterRecord;
    return { ...where, ...record, ...marked(record.originalValue) };
  }
  return {
    ...where,
    ...marked(undefined),
    sourceTopic: header('dlq-source-topic'),
    sourcePartition: Number(header('dlq-source-partition') || -1),
    sourceOffset: header('dlq-source-offset'),
    reason: header('dlq-reason'),
    deadLetteredAt: new Date(Number(message.timestamp)).toISOString(),
    originalKey: message.key,
    originalValue: null,
    originalHeaders: {},
    unreadable: decoded.reason,
  };
}

/**
 * What the worker left out of a dead letter, told from its truncation headers
 * (and the value it kept, when the record decoded); undefined when nothing.
 */
function truncationOf(
  header: (name: string) => string,
  keptValue: Buffer | null | undefined,
): string | undefined {
  const parts: string[] = [];
  const valueBytes = header(TRUNCATION_HEADERS.valueBytes);
  if (valueBytes !== '') {
    const sha256 = header(TRUNCATION_HEADERS.valueSha256);
    const kept =
      keptValue === undefined
        ? 'cut short'
        : keptValue === null || keptValue.length === 0
          ? 'left out'
          : `cut to its first ${keptValue.length} bytes`;
    parts.push(
      `the original value of ${valueBytes} bytes${sha256 === '' ? '' : ` (sha256 ${sha256})`} is ${kept}`,
    );
  }
  const keyBytes = header(TRUNCATION_HEADERS.keyBytes);
  if (keyBytes !== '') parts.push(`the original key of ${keyBytes} bytes is cut short`);
  const headersDropped = header(TRUNCATION_HEADERS.headersDropped);
  if (headersDropped !== '') parts.push(`its ${headersDropped} original header(s) are left out`);
  return parts.length === 0 ? undefined : parts.join('; ');
}

/** Parses "P:O[,P:O...]" into distinct ids; throws DLQ_BAD_ID naming every malformed one. */
export function parseEntryIds(text: string): string[] {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const bad = parts.filter((part) => !/^\d{1,9}:\d{1,19}$/.test(part));
  if (parts.length === 0 || bad.length > 0) {
    throw new DlqError(
      'DLQ_BAD_ID',
      `${bad.length > 0 ? bad.map((part) => JSON.stringify(part)).join(', ') : 'no id'} ` +
        'is not a DLQ entry id: write <partition>:<offset> as `dlq list` shows it, e.g. 0:42, ' +
        'several separated by commas',
    );
  }
  // "0:007" and "0:7" are the same entry: normalise so that duplicates collapse.
  const normalised = parts.map((part) => {
    const [partition, offset] = part.split(':') as [string, string];
    return `${Number(partition)}:${BigInt(offset).toString()}`;
  });
  return [...new Set(normalised)];
}

export interface EntryFilter {
  /** Case-insensitive text the reason contains. */
  readonly reason?: string;
  /** A source topic, with or without the deployment's prefix. */
  readonly sourceTopic?: string;
}

export function matchesFilter(
  entry: DeadLetterEntry,
  filter: EntryFilter,
  topicPrefix: string,
): boolean {
  if (
    filter.reason !== undefined &&
    !entry.reason.toLowerCase().includes(filter.reason.toLowerCase())
  ) {
    return false;
  }
  const topic = filter.sourceTopic;
  return (
    topic === undefined ||
    entry.sourceTopic === topic ||
    entry.sourceTopic === `${topicPrefix}${topic}`
  );
}
