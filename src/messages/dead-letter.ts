/**
 * The dead-letter topic's wire format, shared by its writer (the pipeline's
 * dead-letter sender) and its readers (the DLQ tools): the topic, the record
 * (schemas/escrow.dlq.v1.avsc) and the headers beside it.
 */

export const DLQ_TOPIC = 'escrow.dlq.v1';
/** The header a replayed message carries: the DLQ entry it came from, "<dlqTopic>:<P>:<O>". */
export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';

/**
 * Headers beside a dead letter the worker had to shorten to fit the DLQ topic
 * (src/pipeline/dead-letter-record.ts): the original value's size in bytes
 * and its sha256 when the record holds only a prefix of it or none of it, the
 * original key's size when the key is a prefix, the number of original
 * headers left out. The Avro record has no field for this, and a header
 * needs no schema change.
 */
export const TRUNCATION_HEADERS = {
  valueBytes: 'dlq-value-truncated',
  valueSha256: 'dlq-value-sha256',
  keyBytes: 'dlq-key-truncated',
  headersDropped: 'dlq-headers-dropped',
} as const;

/** One record of the dead-letter topic, as its Avro schema has it. */
export interface DeadLetterRecord {
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  reason: string;
  originalKey: Buffer | null;
  originalValue: Buffer | null;
  originalHeaders: Record<string, string>;
  deadLetteredAt: string;
}
