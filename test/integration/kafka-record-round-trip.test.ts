/**
 * Records that the worker's producer sends through KafkaJS with its
 * replacements installed (src/kafka/kafkajs-patches.ts: the lean record
 * encoding, the linear grouping; src/kafka/partitioner.ts) come back from the
 * real broker as they were sent: keys, values and headers byte for byte, each
 * keyed one on the partition KafkaJS's DefaultPartitioner chooses. Jest
 * ignores require.cache, so the producer runs in a child Node process, which
 * reads the test's configuration from the environment it inherits.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type Message, Partitioners } from 'kafkajs';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const root = path.resolve(__dirname, '..', '..');

const sent: Message[] = [
  { key: 'order-1', value: 'ascii', headers: { 'outcome-id': 'o-1', traceparent: '00-ab-cd-01' } },
  { key: 'ключ-🔑', value: 'värde ✓', headers: { ヘッダー: '値', repeated: ['1', 'ü'] } },
  {
    key: Buffer.from([0, 255, 7]),
    value: Buffer.alloc(20_000, 9),
    headers: { bytes: Buffer.from([1, 2]) },
  },
  { key: null, value: null },
  { key: '', value: '', headers: { '': '' } },
];

/** Buffers cross the process boundary as Buffer.toJSON gives them. */
const revive = (_: string, value: unknown) =>
  value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer'
    ? Buffer.from((value as { data: number[] }).data)
    : value;

const bytesOf = (field: unknown) => (field == null ? null : Buffer.from(field as string));

interface Received {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

test('records sent through the patched KafkaJS come back as sent, keyed ones where KafkaJS would put them', () => {
  const topic = `${ctx.config.TOPIC_PREFIX}record-round-trip`;
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `
      const { createKafka, createProducer } = require('./src/kafka/client.ts');
      const { loadConfig } = require("./src/config");
      const revive = ${revive.toString()};
      const { topic, messages } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'), revive);
      (async () => {
        const kafka = createKafka(loadConfig());
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
        await admin.disconnect();
        const producer = createProducer(kafka);
        await producer.connect();
        await producer.send({ topic, messages });
        await producer.disconnect();
        const consumer = kafka.consumer({ groupId: topic });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        const received = [];
        await new Promise((resolve) => {
          void consumer.run({
            eachMessage: async ({ partition, message: { key, value, headers } }) => {
              received.push({ partition, key, value, headers });
              if (received.length === messages.length) resolve();
            },
          });
        });
        await consumer.disconnect();
        const { encodeRecord } = require('./src/kafka/record-encoding.ts');
        const patched = require('kafkajs/src/protocol/recordBatch/record/v0') === encodeRecord;
        console.log(JSON.stringify({ patched, received }));
      })();
    `,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      input: JSON.stringify({ topic, messages: sent }),
      env: { ...process.env, LOG_LEVEL: 'silent' },
      timeout: 30_000,
    },
  );
  expect(run.status).toBe(0);
  const { patched, received } = JSON.parse(run.stdout, revive) as {
    patched: boolean;
    received: Received[];
  };
  expect(patched).toBe(true);
  const keyed = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  const expected = sent.map((message) => ({
    key: bytesOf(message.key),
    value: bytesOf(message.value),
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.map(bytesOf) : bytesOf(value),
      ]),
    ),
  }));
  const sentIndex = (message: Received) =>
    expected.findIndex(({ key }) =>
      key === null ? message.key === null : message.key !== null && key.equals(message.key),
    );
  const inSentOrder = [...received].sort((a, b) => sentIndex(a) - sentIndex(b));
  expect(inSentOrder.map(({ key, value, headers }) => ({ key, value, headers }))).toEqual(expected);
  const keyedPartitions = sent.flatMap((message, index) =>
    message.key === null ? [] : [[index, keyed({ topic, partitionMetadata, message })]],
  );
  expect(keyedPartitions.map(([index]) => [index, inSentOrder[index!]!.partition])).toEqual(
    keyedPartitions,
  );
}, 60_000);
