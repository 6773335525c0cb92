/**
 * One Kafka record (v2 format, as KafkaJS's produce v3 request sends it) in
 * one buffer of its exact size. KafkaJS's own encoder
 * (kafkajs/src/protocol/recordBatch/record/v0/index.js) gives every record and
 * every header an Encoder with a 512-byte zeroed buffer, builds an array and a
 * Buffer for each varint and turns the timestamp delta into BigInt-backed
 * Longs; the relay sends several headers per record, so that is most of what
 * KafkaJS allocates to produce. This function writes the same bytes: it
 * measures the record first, then writes each field where it belongs, with
 * integer arithmetic.
 *
 * Only what the worker sends takes that path: keys, values and header values
 * as strings or Buffers (or null, undefined for a key or a value), header
 * values one or an array, a timestamp delta that is a safe integer. Anything
 * else (a number as a value, a NaN delta, a BigInt, a Uint8Array that is not
 * a Buffer) goes to KafkaJS's own function, which was loaded first and kept,
 * so it is encoded, or refused, exactly as KafkaJS does.
 *
 * src/kafka/kafkajs-patches.ts puts this function where KafkaJS's produce
 * request finds it.
 */

/** A record as KafkaJS's produce request hands it to its record encoder. */
export interface RecordInput {
  readonly offsetDelta?: unknown;
  readonly timestampDelta?: unknown;
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: unknown;
}

/** What KafkaJS's record batch reads of an encoded record: its bytes are buf[0, offset). */
export interface EncodedRecord {
  readonly buf: Buffer;
  readonly offset: number;
  readonly buffer: Buffer;
}

// KafkaJS's own modules, as its produce request loads them (they ship no types).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Encoder = require('kafkajs/src/protocol/encoder') as { readonly prototype: object };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  record: RecordInput,
) => EncodedRecord;

/** A length-prefixed field: a string, bytes, or null (length -1, no bytes). */
type Field = string | Buffer | null;

/**
 * The record's length-prefixed fields in wire order — key, value, then each
 * header's key and value — and their byte lengths (-1 for null), filled by
 * measureFields() and emptied by writeField() within one encodeRecord() call:
 * records are encoded one at a time, so one pair of arrays serves them all.
 */
const fields: Field[] = [];
const fieldLengths: number[] = [];
let fieldCount = 0;

/** The bytes KafkaJS's record encoder writes for `record`, in a buffer of exactly that size. */
export function encodeRecord(record: RecordInput): EncodedRecord {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = record;
  if (typeof offsetDelta !== 'number' || !Number.isSafeInteger(timestampDelta)) {
    return kafkaJsRecord(record);
  }
  fieldCount = 0;
  const headerCount = measureFields(key, value, headers);
  if (headerCount < 0) {
    fields.fill(null, 0, fieldCount);
    return kafkaJsRecord(record);
  }
  let bodySize =
    1 + // attributes
    sizeOfVarLong(timestampDelta as number) +
    sizeOfVarInt(offsetDelta) +
    sizeOfVarInt(headerCount);
  for (let index = 0; index < fieldCount; index++) {
    const length = fieldLengths[index]!;
    bodySize += sizeOfVarInt(length) + (length < 0 ? 0 : length);
  }
  const size = sizeOfVarInt(bodySize) + bodySize;
  const buf = Buffer.allocUnsafe(size);
  let offset = writeVarInt(buf, 0, bodySize);
  buf[offset++] = 0; // attributes: none used
  offset = writeVarLong(buf, offset, timestampDelta as number);
  offset = writeVarInt(buf, offset, offsetDelta);
  offset = writeField(buf, offset, 0);
  offset = writeField(buf, offset, 1);
  offset = writeVarInt(buf, offset, headerCount);
  for (let index = 2; index < fieldCount; index++) offset = writeField(buf, offset, index);
  const encoded = Object.create(Encoder.prototype) as { buf: Buffer; offset: number };
  encoded.buf = buf;
  encoded.offset = offset;
  return encoded as EncodedRecord;
}

/**
 * Fills `fields` with the key, the value and the headers in KafkaJS's order
 * (Object.keys, an array's values in turn); the number of headers, or -1 when
 * something is not of a type this encoder writes.
 */
function measureFields(key: unknown, value: unknown, headers: unknown): number {
  if (!addField(key, true) || !addField(value, true)) return -1;
  if (typeof headers !== 'object' || headers === null) return -1;
  let headerCount = 0;
  for (const headerKey of Object.keys(headers)) {
    const headerValue = (headers as Record<string, unknown>)[headerKey];
    if (Array.isArray(headerValue)) {
      for (const each of headerValue as unknown[]) {
        if (!addField(headerKey, false) || !addField(each, false)) return -1;
        headerCount++;
      }
    } else {
      if (!addField(headerKey, false) || !addField(headerValue, false)) return -1;
      headerCount++;
    }
  }
  return headerCount;
}

/** Appends a field; false when it is not a string or a Buffer (nor, where `nullable`, null or undefined). */
function addField(field: unknown, nullable: boolean): boolean {
  let length: number;
  if (typeof field === 'string') length = Buffer.byteLength(field, 'utf8');
  else if (Buffer.isBuffer(field)) length = field.length;
  else if (nullable && field == null) length = -1;
  else return false;
  fields[fieldCount] = length < 0 ? null : (field as string | Buffer);
  fieldLengths[fieldCount] = length;
  fieldCount++;
  return true;
}

function writeField(buf: Buffer, start: number, index: number): number {
  const field = fields[index]!;
  const length = fieldLengths[index]!;
  fields[index] = null; // hold no value past this call
  const offset = writeVarInt(buf, start, length);
  if (field === null) return offset;
  if (typeof field === 'string') buf.write(field, offset, length, 'utf8');
  else buf.set(field, offset);
  return offset + length;
}

/** Kafka's varint: the 32-bit zigzag of `value` (as KafkaJS computes it), 7 bits a byte, low first. */
function writeVarInt(buf: Buffer, start: number, value: number): number {
  let rest = ((value << 1) ^ (value >> 31)) >>> 0;
  let offset = start;
  while (rest > 0x7f) {
    buf[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[offset++] = rest;
  return offset;
}

function sizeOfVarInt(value: number): number {
  let rest = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (rest > 0x7f) {
    size++;
    rest >>>= 7;
  }
  return size;
}

/**
 * Kafka's varlong for a safe integer. Its zigzag, 2|v| - 1 for a negative v,
 * can exceed 2^53 and lose its low bit as a double, so it is never formed:
 * with m = v (or -v - 1 when negative) it is 2m + sign, whose low 7 bits are
 * 2(m mod 64) + sign and whose remaining bits are floor(m / 64).
 */
function writeVarLong(buf: Buffer, start: number, value: number): number {
  const sign = value < 0 ? 1 : 0;
  const magnitude = sign === 1 ? -value - 1 : value;
  let low = (magnitude % 64) * 2 + sign;
  let rest = Math.floor(magnitude / 64);
  let offset = start;
  while (rest > 0) {
    buf[offset++] = low | 0x80;
    low = rest % 128;
    rest = Math.floor(rest / 128);
  }
  buf[offset++] = low;
  return offset;
}

function sizeOfVarLong(value: number): number {
  const magnitude = value < 0 ? -value - 1 : value;
  let rest = Math.floor(magnitude / 64);
  let size = 1;
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 128);
  }
  return size;
}
