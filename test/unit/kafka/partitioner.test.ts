/**
 * The producer's partitioner (src/kafka/partitioner.ts) makes KafkaJS's
 * DefaultPartitioner's choice for every message: keyed ones by murmur2 of
 * the key (ASCII, any UTF-16, empty, long, Buffers, numbers) over 0 to 64
 * partitions, a message's own partition, and unkeyed ones round robin over
 * the available partitions from the same start. Both draw that start from
 * Web Crypto, which the tests fix to compare the sequences exactly.
 */
import fc from 'fast-check';
import { type Message, type PartitionMetadata, Partitioners } from 'kafkajs';
import { createPartitioner, murmur2, murmur2OfKey } from '../../../src/kafka/partitioner';

afterEach(() => jest.restoreAllMocks());

/** Makes the next random starts `start` for both partitioners (KafkaJS reads the first 4 bytes, big-endian). */
function fixRandomStart(start: number) {
  jest.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((array) => {
    const bytes = array as Buffer;
    bytes.fill(0xa5);
    bytes.writeUInt32BE(start, 0);
    return array;
  });
}

test("the Java client's murmur2 of its own test vectors (Kafka's UtilsTest)", () => {
  const javaHashes: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of javaHashes)
    expect([key, murmur2(Buffer.from(key))]).toEqual([key, hash]);
});

const key = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) }),
  fc.string({ unit: 'binary', minLength: 300, maxLength: 600 }),
  fc.constant(''),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.integer(),
  fc.double(),
);

const partitionMetadata = fc
  .array(fc.integer({ min: -1, max: 2 }), { maxLength: 64 })
  .map((leaders): PartitionMetadata[] =>
    leaders.map((leader, partitionId) => ({
      partitionId,
      leader,
      replicas: [],
      isr: [],
      partitionErrorCode: 0,
    })),
  );

/** Keyed, unkeyed, and with a partition of their own (0 included), with or without a key. */
const message = fc.oneof(
  fc.record({ key }),
  fc.record({ key: fc.constantFrom(null, undefined), value: fc.constant('v') }),
  fc.record({ key: fc.option(key, { nil: null }), partition: fc.integer({ min: 0, max: 70 }) }),
);

test("KafkaJS's DefaultPartitioner's choice for every message, from the same random start", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(0, 2 ** 31 - 3, 2 ** 32 - 2), fc.nat({ max: 2 ** 32 - 1 })),
      partitionMetadata,
      fc.array(fc.tuple(fc.constantFrom('escrow.events.v1', 'escrow.payouts.v1'), message), {
        maxLength: 100,
      }),
      (start, metadata, messages) => {
        fixRandomStart(start);
        const ours = createPartitioner();
        const kafkaJs = Partitioners.DefaultPartitioner();
        for (const [topic, each] of messages) {
          const input = { topic, partitionMetadata: metadata, message: each as Message };
          expect(ours(input)).toEqual(kafkaJs(input));
        }
      },
    ),
    { seed: 20260601, numRuns: 3000 },
  );
});

test('unkeyed messages go round robin over the partitions with a leader only', () => {
  const metadata = [0, -1, 1, -1, 2, 0].map((leader, partitionId) => ({
    partitionId,
    leader,
    replicas: [],
    isr: [],
    partitionErrorCode: 0,
  }));
  fixRandomStart(3); // the first message takes counter 4: the first available partition
  const partition = createPartitioner();
  const chosen = Array.from({ length: 8 }, () =>
    partition({ topic: 't', partitionMetadata: metadata, message: { value: 'v' } }),
  );
  expect(chosen).toEqual([0, 2, 4, 5, 0, 2, 4, 5]);
});

test('a key too long for the scratch buffer hashes as its own bytes', () => {
  // 3 UTF-8 bytes each: 341 of them fill 1,023 bytes of the scratch buffer, 342 overflow it.
  for (const key of ['€'.repeat(341), '€'.repeat(342), 'é'.repeat(600)]) {
    expect(murmur2OfKey(key)).toBe(murmur2(Buffer.from(key)));
  }
});
