/**
 * KafkaJS's grouping, record encoding and record batch encoding replaced in Node's module cache
 * (src/kafka/kafkajs-patches.ts): in a Node process that imports the Kafka
 * client, KafkaJS's producer and produce request load the replacements, and
 * the produce requests KafkaJS encodes with them are byte for byte the ones it
 * encodes as it ships (here, under Jest, which ignores require.cache). Loaded
 * after KafkaJS, the module refuses to start and installs nothing.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { installKafkaJsPatches } from '../../../src/kafka/kafkajs-patches';

const root = path.resolve(__dirname, '..', '..', '..');

/** Runs `code` in a fresh Node process with tsx, from the repository's root; its stdout and exit code. */
function inNode(code: string, input = '') {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

test('under Jest nothing is installed: KafkaJS runs as it ships', () => {
  expect(installKafkaJsPatches()).toBe('not-node');
});

test("KafkaJS's producer and produce request load the replacements once the Kafka client is imported", () => {
  const run = inNode(`
    require('./src/kafka/client.ts');
    const { kafkaJsModules } = require('./src/kafka/kafkajs-patches.ts');
    const { groupMessagesPerPartition } = require('./src/kafka/linear-grouping.ts');
    const { encodeRecord } = require('./src/kafka/record-encoding.ts');
    const { RecordBatch } = require('./src/kafka/record-batch.ts');
    require(kafkaJsModules.produceRequest);
    const childOf = (importer, file) =>
      require.cache[importer].children.find((child) => child.filename === file).exports;
    console.log(JSON.stringify({
      producerGroups: childOf(kafkaJsModules.sendMessages, kafkaJsModules.grouping) === groupMessagesPerPartition,
      requestEncodes: childOf(kafkaJsModules.produceRequest, kafkaJsModules.record) === encodeRecord,
      batchEncodes: childOf(kafkaJsModules.produceRequest, kafkaJsModules.recordBatch).RecordBatch === RecordBatch,
    }));
  `);
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({
    producerGroups: true,
    requestEncodes: true,
    batchEncodes: true,
  });
});

/** Buffers cross the process boundary as Buffer.toJSON gives them. */
const revive = (_: string, value: unknown) =>
  value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer'
    ? Buffer.from((value as { data: number[] }).data)
    : value;

const field = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);
const message = fc.record({
  key: fc.option(field, { nil: null }),
  value: fc.option(field, { nil: null }),
  headers: fc.dictionary(
    fc.string({ maxLength: 12 }),
    fc.oneof(field, fc.array(field, { maxLength: 2 })),
    {
      maxKeys: 4,
    },
  ),
  timestamp: fc.integer({ min: 1_780_000_000_000, max: 1_780_000_900_000 }).map(String),
});
/** Produce requests as KafkaJS's producer hands them over: topics, partitions, messages; plain or gzipped. */
const produceRequest = fc.record({
  acks: fc.constantFrom(-1, 1),
  timeout: fc.constant(30_000),
  compression: fc.constantFrom(0, 1),
  producerEpoch: fc.integer({ min: 0, max: 5 }),
  topicData: fc.array(
    fc.record({
      topic: fc.constantFrom('escrow.events.v1', 'escrow.payouts.v1'),
      partitions: fc.array(
        fc.record({
          partition: fc.integer({ min: 0, max: 11 }),
          firstSequence: fc.integer({ min: 0, max: 100_000 }),
          messages: fc.array(message, { minLength: 1, maxLength: 40 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

type ProduceRequest = (request: unknown) => { encode(): Promise<{ buffer: Buffer }> };

/** Each request's bytes, in hex, as `produceRequest` (KafkaJS's produce v3 request) encodes them. */
async function encodeAll(produceRequest: ProduceRequest, requests: unknown[]): Promise<string[]> {
  const encoded = [];
  for (const each of requests) {
    encoded.push((await produceRequest(each).encode()).buffer.toString('hex'));
  }
  return encoded;
}

test('the produce requests KafkaJS encodes with them are the bytes it encodes as it ships', async () => {
  const requests = JSON.stringify(fc.sample(produceRequest, { seed: 20260601, numRuns: 60 }));
  const run = inNode(
    `
    require('./src/kafka/client.ts');
    const revive = ${revive.toString()};
    const requests = JSON.parse(require('node:fs').readFileSync(0, 'utf8'), revive);
    (${encodeAll.toString()})(require('kafkajs/src/protocol/requests/produce/v3/request'), requests)
      .then((encoded) => console.log(JSON.stringify(encoded)));
  `,
    requests,
  );
  expect(run.stderr).toBe('');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const asShipped = require('kafkajs/src/protocol/requests/produce/v3/request') as ProduceRequest;
  const expected = await encodeAll(asShipped, JSON.parse(requests, revive) as unknown[]);
  const encoded = JSON.parse(run.stdout) as string[];
  expect(encoded).toHaveLength(60);
  expect(encoded.map((hex, index) => hex === expected[index])).toEqual(expected.map(() => true));
});

test.each([
  ['kafkajs', 'kafkajs/src/producer/sendMessages.js', 'grouping messages per partition'],
  [
    'kafkajs/src/protocol/requests/produce/v3/request',
    'kafkajs/src/protocol/requests/produce/v3/request.js',
    'encoding every record',
  ],
])(
  'imported after %s, it refuses to start, names the import order to fix, installs nothing',
  (first, file, lost) => {
    const run = inNode(`
    require('${first}');
    let refusal;
    try {
      require('./src/kafka/kafkajs-patches.ts');
    } catch (error) {
      refusal = { code: error.code, message: error.message };
    }
    const installed = [
      'kafkajs/src/producer/groupMessagesPerPartition',
      'kafkajs/src/protocol/recordBatch/record/v0',
      'kafkajs/src/protocol/recordBatch/v0',
    ].filter((file) => Symbol.for('escrow-worker.kafkajs-patch') in require(file));
    console.log(JSON.stringify({ ...refusal, installed }));
  `);
    const refusal = JSON.parse(run.stdout) as {
      code: string;
      message: string;
      installed: string[];
    };
    expect(refusal.code).toBe('KAFKAJS_LOADED_FIRST');
    expect(refusal.message).toContain(`KafkaJS's ${file} was loaded before`);
    expect(refusal.message).toContain(lost);
    expect(refusal.message).toContain("import './kafka/kafkajs-patches'");
    expect(refusal.installed).toEqual([]);
  },
);
