/**
 * The slicing-by-8 CRC-32C (src/kafka/crc32c.ts) gives what KafkaJS's own
 * gives, on the standard check value and on seeded random bytes of every
 * length around the eight-byte steps. Jest ignores require.cache, so
 * KafkaJS's function is loaded here as it ships.
 */
import fc from 'fast-check';
import { crc32c } from '../../../src/kafka/crc32c';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaJsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (
  bytes: Buffer,
) => number;

test("KafkaJS's own checksum is what this test compares with", () => {
  expect(kafkaJsCrc32c).not.toBe(crc32c);
});

test('the standard check value: CRC-32C of "123456789" is 0xE3069283', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  expect(crc32c(Buffer.alloc(0))).toBe(0);
});

test('every length from 0 to 80 bytes, and runs of 0x00 and 0xff, as KafkaJS computes them', () => {
  for (let length = 0; length <= 80; length++) {
    for (const fill of [0x00, 0xff, 0x5a]) {
      const bytes = Buffer.alloc(length, fill);
      expect(crc32c(bytes)).toBe(kafkaJsCrc32c(bytes));
    }
  }
});

test('seeded random bytes, any length and any offset into a larger buffer, as KafkaJS computes them', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(7), (array, start) => {
      // A view that does not start at its ArrayBuffer's first byte, as KafkaJS's encoder's slices do.
      const bytes = Buffer.from(array).subarray(Math.min(start, array.length));
      const result = crc32c(bytes);
      expect(result).toBe(kafkaJsCrc32c(bytes));
      expect(Number.isInteger(result) && result >= 0 && result <= 0xffffffff).toBe(true);
    }),
    { seed: 20261207, numRuns: 400 },
  );
});
