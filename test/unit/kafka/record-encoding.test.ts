/**
 * The lean record encoding (src/kafka/record-encoding.ts) writes, byte for
 * byte, what KafkaJS's own record encoder writes: on seeded random records
 * (keys, values and headers as strings of any UTF-16 units or Buffers, lengths
 * across the varints' byte boundaries, offset and timestamp deltas of every
 * size and sign), on chosen edge cases, and on the inputs it hands back to
 * KafkaJS's function. Jest ignores require.cache, so KafkaJS's encoder is
 * loaded here as it ships.
 */
import fc from 'fast-check';
import { encodeRecord, type RecordInput } from '../../../src/kafka/record-encoding';

interface KafkaJsEncoder {
  readonly buf: Buffer;
  readonly buffer: Buffer;
  writeEncoderArray(records: readonly unknown[]): KafkaJsEncoder;
}
/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkaJsEncoder;
const kafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  record: RecordInput,
) => KafkaJsEncoder;
/* eslint-enable @typescript-eslint/no-require-imports */

test("KafkaJS's own record encoder is what this test compares with (Jest ignores require.cache)", () => {
  expect(kafkaJsRecord).not.toBe(encodeRecord);
  expect(kafkaJsRecord.toString()).toContain('new Encoder()');
});

/** What each encoder gives for `record`: its bytes, or the error it throws. */
function outcomeOf(encode: (record: RecordInput) => { buffer: Buffer }, record: RecordInput) {
  try {
    return { bytes: encode(record).buffer.toString('hex') };
  } catch (error) {
    return { error: String(error) };
  }
}

const expectSameBytes = (record: RecordInput) =>
  expect(outcomeOf(encodeRecord, record)).toEqual(outcomeOf(kafkaJsRecord, record));

/** Strings of any UTF-16 units, lone surrogates included; ASCII ones more often, as the worker's are. */
const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
      maxLength,
    }),
  );

/** Bytes of lengths around the varints' byte boundaries (127/128, 8191/8192 as zigzag) and beyond. */
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 20_000 })
      .chain((length) =>
        fc.integer({ min: 0, max: 255 }).map((fill) => Buffer.alloc(length, fill)),
      ),
  },
);

const field = fc.oneof(text(80), bytes);
const nullableField = fc.oneof(field, fc.constant(null), fc.constant(undefined));

const headers = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(text(20), fc.oneof(field, fc.array(field, { maxLength: 3 })), { maxKeys: 6 }),
);

const offsetDelta = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  fc.integer(),
  fc.constant(undefined),
);

const timestampDelta = fc.oneof(
  fc.integer({ min: -300, max: 300 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32, -(2 ** 32), 63, 64, -64, -65),
  fc.constant(undefined),
);

const record = fc.record(
  { offsetDelta, timestampDelta, key: nullableField, value: nullableField, headers },
  { requiredKeys: [] },
);

test('the same bytes as KafkaJS for random records of every kind it takes', () => {
  fc.assert(fc.property(record, expectSameBytes), { seed: 20260601, numRuns: 5000 });
});

test.each<[string, RecordInput]>([
  ['nothing at all', {}],
  ['null key and value', { key: null, value: null }],
  ['empty strings and an empty Buffer', { key: '', value: Buffer.alloc(0), headers: { '': '' } }],
  [
    "the relay's record",
    {
      offsetDelta: 17,
      timestampDelta: 0,
      key: 'order-9f2c',
      value: Buffer.from([0, 0, 0, 0, 7, 2, 4]),
      headers: {
        'outcome-id': '2d3c6f7e-1a2b-4c5d-8e9f-0a1b2c3d4e5f',
        'cause-event-id': 'payment-9f2c-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    },
  ],
  [
    'unicode keys and values',
    { key: 'ключ-🔑', value: 'värde ✓', headers: { ヘッダー: '値', '🙂': ['a', 'ü'] } },
  ],
  ['lone surrogates', { key: '\ud800', value: 'a\udc00b', headers: { '\udfff': '\ud83d' } }],
  ['a header with an empty array of values', { headers: { gone: [], kept: 'x' } }],
  [
    'integer-like header names, which Object.keys puts first',
    { headers: { b: '1', 10: '2', 2: '3' } },
  ],
  [
    'a value of 63, 64, 8191 and 8192 bytes',
    {
      value: 'x'.repeat(63),
      key: 'y'.repeat(64),
      headers: { z: 'z'.repeat(8191), w: 'w'.repeat(8192) },
    },
  ],
  ['offsets at the varint boundaries', { offsetDelta: 2 ** 30, timestampDelta: -1 }],
  [
    'the largest safe timestamp deltas',
    { timestampDelta: Number.MAX_SAFE_INTEGER, offsetDelta: 2 ** 31 - 1 },
  ],
  [
    'the smallest safe timestamp delta',
    { timestampDelta: Number.MIN_SAFE_INTEGER, offsetDelta: -1 },
  ],
])('%s: the same bytes as KafkaJS', (_, input) => expectSameBytes(input));

test.each<[string, RecordInput]>([
  ['a NaN timestamp delta', { timestampDelta: NaN }],
  ['a timestamp delta past 2^53', { timestampDelta: 2 ** 60 }],
  ['a BigInt timestamp delta', { timestampDelta: 123n }],
  ['a string offset delta', { offsetDelta: '5' }],
  ['a fractional offset delta', { offsetDelta: 1.5 }],
  ['a number as a value', { value: 42 }],
  ['a Uint8Array that is not a Buffer', { value: new Uint8Array([1, 2, 3]) }],
  ['a null header value', { headers: { a: null } }],
  ['a number header value', { headers: { a: 1 } }],
  ['null headers', { headers: null }],
  ['a string as headers', { headers: 'ab' }],
])('%s: encoded, or refused, as KafkaJS does', (_, input) => expectSameBytes(input));

test("KafkaJS's record batch takes it as one of its own encoders", () => {
  const records = [
    encodeRecord({ key: 'a', value: 'b', headers: { h: 'v' } }),
    encodeRecord({ offsetDelta: 1, value: null }),
  ];
  expect(records.every((each) => each instanceof Encoder)).toBe(true);
  const batch = new Encoder().writeEncoderArray(records);
  const expected = new Encoder().writeEncoderArray([
    kafkaJsRecord({ key: 'a', value: 'b', headers: { h: 'v' } }),
    kafkaJsRecord({ offsetDelta: 1, value: null }),
  ]);
  expect(batch.buffer.equals(expected.buffer)).toBe(true);
});

test('its buffer is exactly the record: nothing allocated past the bytes written', () => {
  const encoded = encodeRecord({ key: 'k', value: 'v'.repeat(300), headers: { a: ['1', '2'] } });
  expect(encoded.buf.length).toBe(encoded.offset);
});
