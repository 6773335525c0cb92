/**
 * One Kafka record batch (v2 format, as KafkaJS's produce v3 request sends
 * it, with the first offset and the batch's length before it) in one buffer
 * of its exact size. KafkaJS's own (kafkajs/src/protocol/recordBatch/v0/index.js)
 * writes the batch's body into an Encoder that starts at 512 zeroed bytes and
 * doubles by copying, then copies the body into a second such Encoder behind
 * the checksum, then that into a third behind the offset and the length:
 * every byte of a relay batch was allocated and copied several times over,
 * and those buffers were much of what the relay's garbage collector chased
 * (docs/benchmark.md). This function measures the records
 * first (each already one exact buffer, src/kafka/record-encoding.ts),
 * writes every field where it belongs, copies each record once, and takes
 * the CRC-32C of the body where it lies (src/kafka/crc32c.ts).
 *
 * Only uncompressed batches of encoded records take that path, which is all
 * the worker sends; anything else (a compression codec, a record that is not
 * an encoded record, no records) goes to KafkaJS's own function, loaded
 * first and kept, so it is encoded, or refused, exactly as KafkaJS does.
 *
 * src/kafka/kafkajs-patches.ts puts this module where KafkaJS's produce
 * request finds it.
 */
import { crc32c } from './crc32c';

/** What KafkaJS's produce request hands to RecordBatch. */
export interface RecordBatchInput {
  readonly compression?: number;
  readonly firstOffset?: unknown;
  readonly firstTimestamp?: unknown;
  readonly maxTimestamp?: unknown;
  readonly partitionLeaderEpoch?: number;
  readonly lastOffsetDelta?: number;
  readonly transactional?: boolean;
  readonly producerId?: unknown;
  readonly producerEpoch?: number;
  readonly firstSequence?: number;
  readonly records?: readonly unknown[];
}

/** What the produce request reads of a record batch: its bytes are buf[0, offset), its size offset. */
export interface EncodedBatch {
  readonly buf: Buffer;
  readonly offset: number;
  /** buf[0, offset), from Encoder's prototype. */
  readonly buffer: Buffer;
  size(): number;
}

interface LongValue {
  getHighBits(): number;
  getLowBits(): number;
}

// KafkaJS's own modules, as its record batch loads them (they ship no types).
/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder') as { readonly prototype: object };
const Long = require('kafkajs/src/utils/long') as {
  fromInt(value: number): LongValue;
  fromValue(value: unknown): LongValue;
};
const kafkaJsRecordBatch = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(input: RecordBatchInput): Promise<EncodedBatch>;
  MAGIC_BYTE: number;
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const MAGIC_BYTE = kafkaJsRecordBatch.MAGIC_BYTE;
const NO_COMPRESSION = 0;
const COMPRESSION_CODEC_MASK = 0x07;
const TRANSACTIONAL_MASK = 0x10;
/** The body's fixed fields before its records: attributes … first sequence, and the record count. */
const BODY_HEADER_SIZE = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

function isEncodedRecord(record: unknown): record is { buf: Buffer; offset: number } {
  if (typeof record !== 'object' || record === null) return false;
  const { buf, offset } = record as { buf?: unknown; offset?: unknown };
  return (
    Buffer.isBuffer(buf) &&
    typeof offset === 'number' &&
    Number.isSafeInteger(offset) &&
    offset >= 0 &&
    offset <= buf.length
  );
}

/** The bytes KafkaJS's RecordBatch writes for `input`, in a buffer of exactly that size. */
export async function RecordBatch(input: RecordBatchInput): Promise<EncodedBatch> {
  const {
    compression = NO_COMPRESSION,
    firstOffset = Long.fromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = Long.fromValue(-1),
    producerEpoch = 0,
    firstSequence = 0,
    records = [],
  } = input;
  if (compression !== NO_COMPRESSION || records.length === 0 || !records.every(isEncodedRecord))
    return kafkaJsRecordBatch.RecordBatch(input);
  let recordsSize = 0;
  for (const record of records) recordsSize += record.offset;
  const bodySize = BODY_HEADER_SIZE + recordsSize;
  const batchSize = 4 + 1 + 4 + bodySize; // leader epoch, magic, CRC, body
  const buf = Buffer.allocUnsafe(8 + 4 + batchSize);
  let offset = writeInt64(buf, 0, firstOffset);
  offset = buf.writeInt32BE(batchSize, offset);
  offset = buf.writeInt32BE(partitionLeaderEpoch, offset);
  offset = buf.writeInt8(MAGIC_BYTE, offset);
  const crcAt = offset;
  const bodyStart = crcAt + 4;
  offset = buf.writeInt16BE(
    (compression & COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL_MASK : 0),
    bodyStart,
  );
  offset = buf.writeInt32BE(lastOffsetDelta, offset);
  offset = writeInt64(buf, offset, firstTimestamp);
  offset = writeInt64(buf, offset, maxTimestamp);
  offset = writeInt64(buf, offset, producerId);
  offset = buf.writeInt16BE(producerEpoch, offset);
  offset = buf.writeInt32BE(firstSequence, offset);
  offset = buf.writeInt32BE(records.length, offset);
  for (const record of records) offset += record.buf.copy(buf, offset, 0, record.offset);
  buf.writeUInt32BE(crc32c(buf.subarray(bodyStart, offset)), crcAt);
  const encoded = Object.create(Encoder.prototype) as { buf: Buffer; offset: number };
  encoded.buf = buf;
  encoded.offset = offset;
  return encoded as EncodedBatch;
}

/** An int64 as KafkaJS's Encoder writes one: through its Long, high then low 32 bits. */
function writeInt64(buf: Buffer, offset: number, value: unknown): number {
  const long = Long.fromValue(value);
  buf.writeInt32BE(long.getHighBits(), offset);
  return buf.writeInt32BE(long.getLowBits(), offset + 4);
}
