/**
 * Sizing a dead letter to fit the DLQ topic: what is kept whole, what is cut
 * or left out, and that the reason and the headers say so. Pure: no broker.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { KafkaMessage } from 'kafkajs';
import { TRUNCATION_HEADERS } from '../../../src/messages/dead-letter';
import {
  fitDeadLetter,
  KEY_PREFIX_BYTES,
  ORIGINAL_BYTES_KEPT_WHOLE,
  REASON_CHARACTERS,
  VALUE_PREFIX_BYTES,
} from '../../../src/pipeline/dead-letter-record';
import { sizeRefusal } from '../../../src/pipeline/dead-letter-sender';

const now = new Date('2026-11-20T10:00:00.000Z');
const KiB = 1024;

function source(
  value: Buffer | null,
  key: Buffer | null = Buffer.from('order-1'),
  headers: KafkaMessage['headers'] = { 'trace-id': 'abc' },
) {
  const message = { key, value, headers, offset: '42', timestamp: '0', attributes: 0 };
  return { topic: 'p-escrow.orders.v1', partition: 2, message: message as KafkaMessage };
}
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const reason = 'the value is not in the Confluent wire format';

test('a message under the budget is kept whole, with the reason as given and no truncation mark', () => {
  const value = Buffer.alloc(ORIGINAL_BYTES_KEPT_WHOLE - 100, 1);
  const fitted = fitDeadLetter(source(value), reason, { now });
  expect(fitted.truncated).toBe(false);
  expect(fitted.record).toEqual({
    sourceTopic: 'p-escrow.orders.v1',
    sourcePartition: 2,
    sourceOffset: '42',
    reason,
    originalKey: Buffer.from('order-1'),
    originalValue: value,
    originalHeaders: { 'trace-id': 'abc' },
    deadLetteredAt: '2026-11-20T10:00:00.000Z',
  });
  expect(fitted.headers).toEqual({
    'dlq-source-topic': 'p-escrow.orders.v1',
    'dlq-source-partition': '2',
    'dlq-source-offset': '42',
    'dlq-reason': reason,
  });
});

test('a value past the budget is cut to a prefix; the reason gives its size and sha256 and where the whole is', () => {
  const value = Buffer.alloc(1_048_076, 0x7b);
  const fitted = fitDeadLetter(source(value), reason, { now });
  expect(fitted.truncated).toBe(true);
  expect(fitted.record.originalValue).toEqual(value.subarray(0, VALUE_PREFIX_BYTES));
  expect(fitted.record.originalKey).toEqual(Buffer.from('order-1'));
  expect(fitted.record.originalHeaders).toEqual({ 'trace-id': 'abc' });
  expect(fitted.record.reason).toBe(
    `${reason} [dead letter cut to fit the DLQ: original value of 1048076 bytes truncated to ` +
      `${VALUE_PREFIX_BYTES} bytes (sha256 ${sha256(value)}); the whole message is at ` +
      'p-escrow.orders.v1 partition 2 offset 42 while that topic retains it, and cannot be replayed from the DLQ]',
  );
  expect(fitted.headers).toMatchObject({
    [TRUNCATION_HEADERS.valueBytes]: '1048076',
    [TRUNCATION_HEADERS.valueSha256]: sha256(value),
  });
  expect(fitted.headers[TRUNCATION_HEADERS.keyBytes]).toBeUndefined();
});

test('key and headers count against the budget: a value that fits alone is cut beside them', () => {
  const value = Buffer.alloc(ORIGINAL_BYTES_KEPT_WHOLE - 10 * KiB, 1);
  const headers = { big: Buffer.alloc(20 * KiB, 0x61) };
  const fitted = fitDeadLetter(source(value, Buffer.from('k'), headers), reason, { now });
  expect(fitted.record.originalValue?.length).toBe(VALUE_PREFIX_BYTES);
  expect(fitted.record.originalHeaders).toEqual({ big: 'a'.repeat(20 * KiB) });
});

test('a huge key and huge headers are cut and left out, and a small value is then kept whole', () => {
  const key = Buffer.alloc(600 * KiB, 0x6b);
  const value = Buffer.from([0, 0, 0, 0, 1, 2]);
  const fitted = fitDeadLetter(source(value, key, { a: 'x'.repeat(100), b: 'y' }), reason, { now });
  expect(fitted.record.originalKey).toEqual(key.subarray(0, KEY_PREFIX_BYTES));
  expect(fitted.record.originalHeaders).toEqual({});
  expect(fitted.record.originalValue).toEqual(value);
  expect(fitted.headers).toMatchObject({
    [TRUNCATION_HEADERS.keyBytes]: String(600 * KiB),
    [TRUNCATION_HEADERS.headersDropped]: '2',
  });
  expect(fitted.headers[TRUNCATION_HEADERS.valueBytes]).toBeUndefined();
  expect(fitted.record.reason).toContain(
    `original key of ${600 * KiB} bytes truncated to ${KEY_PREFIX_BYTES} bytes; 2 original header(s) of 103 bytes left out`,
  );
});

test('bare leaves the value out and says why, for a DLQ topic that refused the fitted record', () => {
  const value = Buffer.alloc(100 * KiB, 0x41);
  const refusal =
    'MESSAGE_TOO_LARGE: The request included a message larger than the max message size';
  const fitted = fitDeadLetter(source(value), reason, { now, bare: { refusal } });
  expect(fitted.record.originalValue).toBeNull();
  expect(fitted.record.originalKey).toEqual(Buffer.from('order-1'));
  expect(fitted.record.originalHeaders).toEqual({ 'trace-id': 'abc' });
  expect(fitted.record.reason).toContain(
    `[dead letter cut to fit the DLQ (${refusal}): original value of ${100 * KiB} bytes left out (sha256 ${sha256(value)})`,
  );
  expect(fitted.headers[TRUNCATION_HEADERS.valueBytes]).toBe(String(100 * KiB));
});

test('a tombstone has nothing to cut', () => {
  const fitted = fitDeadLetter(source(null), 'the message has no value', { now });
  expect(fitted.truncated).toBe(false);
  expect(fitted.record.originalValue).toBeNull();
});

test('a long reason keeps both ends; the dlq-reason header stays under 1000 characters', () => {
  const long = `processing failed: ${'x'.repeat(20_000)} - the database's complaint`;
  const fitted = fitDeadLetter(source(Buffer.from('v')), long, { now });
  expect(fitted.record.reason).toHaveLength(REASON_CHARACTERS);
  expect(fitted.record.reason.startsWith('processing failed: ')).toBe(true);
  expect(fitted.record.reason.endsWith("the database's complaint")).toBe(true);
  expect(fitted.headers['dlq-reason']).toHaveLength(1000);
});

test('property: whatever the sizes, the original kept stays within the budget, and anything cut is marked', () => {
  const sizes = fc.integer({ min: 0, max: 2 * 1024 * KiB });
  fc.assert(
    fc.property(
      sizes,
      fc.integer({ min: 0, max: 800 * KiB }),
      sizes,
      (valueBytes, keyBytes, headerBytes) => {
        const value = Buffer.alloc(valueBytes, 1);
        const key = Buffer.alloc(keyBytes, 2);
        const fitted = fitDeadLetter(source(value, key, { h: 'z'.repeat(headerBytes) }), reason, {
          now,
        });
        const { originalKey, originalValue, originalHeaders } = fitted.record;
        const kept =
          (originalKey?.length ?? 0) +
          (originalValue?.length ?? 0) +
          Object.entries(originalHeaders).reduce((sum, [n, v]) => sum + n.length + v.length, 0);
        expect(kept).toBeLessThanOrEqual(ORIGINAL_BYTES_KEPT_WHOLE);
        const whole =
          originalValue?.length === valueBytes &&
          originalKey?.length === keyBytes &&
          Object.keys(originalHeaders).length === 1;
        expect(fitted.truncated).toBe(!whole);
      },
    ),
    { numRuns: 60 },
  );
});

test('sizeRefusal finds MESSAGE_TOO_LARGE however deep KafkaJS wrapped it, and nothing else', () => {
  const protocol = Object.assign(new Error('The request included a message larger than the max'), {
    type: 'MESSAGE_TOO_LARGE',
    retriable: false,
  });
  const wrapped = new Error('KafkaJSNonRetriableError', { cause: protocol });
  expect(sizeRefusal(wrapped)).toBe(
    'MESSAGE_TOO_LARGE: The request included a message larger than the max',
  );
  expect(sizeRefusal(Object.assign(new Error('x'), { type: 'RECORD_LIST_TOO_LARGE' }))).toMatch(
    /^RECORD_LIST_TOO_LARGE/,
  );
  expect(sizeRefusal(Object.assign(new Error('no'), { type: 'TOPIC_AUTHORIZATION_FAILED' }))).toBe(
    undefined,
  );
  expect(sizeRefusal('text')).toBeUndefined();
});
