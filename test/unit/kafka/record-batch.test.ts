/**
 * The one-buffer record batch (src/kafka/record-batch.ts) writes, byte for
 * byte, what KafkaJS's own RecordBatch writes: on seeded random batches of
 * records encoded by KafkaJS (any count and size, transactional or not,
 * producer ids and sequences of every size, offsets and timestamps as
 * numbers, strings and Longs), and on the inputs it hands back to KafkaJS's
 * function (a compression codec, no records, something that is not an
 * encoded record). Jest ignores require.cache, so KafkaJS's functions are
 * loaded here as they ship.
 */
import fc from 'fast-check';
import { RecordBatch, type RecordBatchInput } from '../../../src/kafka/record-batch';

/* eslint-disable @typescript-eslint/no-require-imports */
const kafkaJs = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (input: RecordBatchInput) => Promise<{ buffer: Buffer; size(): number }>;
};
const kafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
}) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: unknown): unknown };
/* eslint-enable @typescript-eslint/no-require-imports */

test("KafkaJS's own RecordBatch is what this test compares with (Jest ignores require.cache)", () => {
  expect(kafkaJs.RecordBatch).not.toBe(RecordBatch);
  expect(kafkaJs.RecordBatch.toString()).toContain('new Encoder()');
});

/** What each function gives for `input`: its bytes and size, or the error it throws. */
async function outcomeOf(
  encode: (input: RecordBatchInput) => Promise<{ buffer: Buffer; size(): number }>,
  input: RecordBatchInput,
) {
  try {
    const encoded = await encode(input);
    return { bytes: encoded.buffer.toString('hex'), size: encoded.size() };
  } catch (error) {
    return { error: String(error) };
  }
}

const expectSameBytes = async (input: RecordBatchInput) =>
  expect(await outcomeOf(RecordBatch as typeof kafkaJs.RecordBatch, input)).toEqual(
    await outcomeOf(kafkaJs.RecordBatch, input),
  );

const field = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 60 }),
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
);
const record = fc.record({
  key: field,
  value: field,
  headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), {
    maxKeys: 3,
  }),
  timestampDelta: fc.integer({ min: 0, max: 100_000 }),
});
const int64 = fc.oneof(
  fc.integer({ min: -1, max: 2 ** 31 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => Long.fromValue(value)),
  fc.bigInt({ min: 0n, max: 2n ** 53n }).map(String),
);
const batch = fc.record({
  records: fc.array(record, { minLength: 1, maxLength: 60 }),
  firstOffset: int64,
  firstTimestamp: fc.integer({ min: 1_780_000_000_000, max: 1_790_000_000_000 }),
  maxTimestamp: fc.integer({ min: 1_780_000_000_000, max: 1_790_000_000_000 }),
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  transactional: fc.boolean(),
  producerId: int64,
  producerEpoch: fc.integer({ min: -1, max: 32_767 }),
  firstSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
});

test('seeded random uncompressed batches: the bytes and the size KafkaJS writes', async () => {
  await fc.assert(
    fc.asyncProperty(batch, async ({ records, ...fields }) => {
      await expectSameBytes({
        ...fields,
        compression: 0,
        lastOffsetDelta: records.length - 1,
        records: records.map((each, offsetDelta) => kafkaJsRecord({ ...each, offsetDelta })),
      });
    }),
    { seed: 20261207, numRuns: 200 },
  );
});

test("what it hands back to KafkaJS's function is encoded, or refused, as KafkaJS does", async () => {
  const records = [
    kafkaJsRecord({ key: 'k', value: 'v', headers: {}, offsetDelta: 0, timestampDelta: 0 }),
  ];
  await expectSameBytes({
    compression: 1,
    records,
    lastOffsetDelta: 0,
    firstTimestamp: 1,
    maxTimestamp: 1,
  });
  await expectSameBytes({ compression: 0, records: [], firstTimestamp: 1, maxTimestamp: 1 });
  await expectSameBytes({ records: [{ not: 'an encoder' }], firstTimestamp: 1, maxTimestamp: 1 });
  // An encoder whose offset runs past its buffer: KafkaJS's slice stops at the buffer's end.
  const overrun = kafkaJsRecord({
    key: 'k',
    value: 'v',
    headers: {},
    offsetDelta: 0,
    timestampDelta: 0,
  }) as { buf: Buffer; offset: number };
  overrun.offset = overrun.buf.length + 64;
  await expectSameBytes({
    records: [overrun],
    lastOffsetDelta: 0,
    firstTimestamp: 1,
    maxTimestamp: 1,
  });
  await expectSameBytes({ records, lastOffsetDelta: 2 ** 40, firstTimestamp: 1, maxTimestamp: 1 });
});
