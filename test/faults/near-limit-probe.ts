/**
 * The one bad message that is sent apart from the stream: a value within
 * 512 bytes of the broker's max.message.bytes. Its dead letter (the original
 * bytes plus source, reason and headers) cannot fit under the same limit, so
 * this is where a worker is most likely to fail, and when it fails it may
 * stop consuming altogether, which would stall the main stream and hide
 * everything else it proves. So it runs on a deployment of its own (its own
 * database, topic prefix and group, one worker): the value, then a valid
 * ORDER_OPENED behind it on the same partition. The worker must put the
 * value somewhere (the DLQ) and go on to open the order.
 */
import type { Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import type { Config } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { readDeadLetters } from '../../src/dlq/read-dead-letters';
import { createProducer } from '../../src/kafka/client';
import { validMessages } from '../support/messages';
import { waitUntil } from '../support/wait';
import type { Findings } from './findings';
import { WorkerFleet } from './fleet';
import { FaultKafka } from './kafka-admin';
import type { ScratchPostgres } from './scratch-postgres';
import type { CleanUp } from './run-resources';

const check = 'near_limit_value_handled';

export async function probeNearLimitValue(deps: {
  kafka: Kafka;
  config: Config;
  postgres: ScratchPostgres;
  maxMessageBytes: number;
  logDir: string;
  findings: Findings;
  say: (line: string) => void;
  cleanUp: CleanUp;
}): Promise<void> {
  const { findings } = deps;
  findings.check(
    check,
    'a value close to the broker limit is dead-lettered and the partition goes on',
  );
  const databaseUrl = await deps.postgres.migratedDatabase('escrow_faults_probe');
  const prefix = `${deps.config.TOPIC_PREFIX}probe.`;
  const config: Config = {
    ...deps.config,
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    CONSUMER_GROUP: `${prefix}escrow-worker`,
  };
  const admin = await FaultKafka.connect(deps.kafka, prefix, config.CONSUMER_GROUP);
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, prefix);
  const producer = createProducer(deps.kafka);
  const fleet = new WorkerFleet(() => config, deps.logDir, 'probe-worker');
  deps.cleanUp.add('stopping the probe worker', () => fleet.close());
  const db = createKnex(config, { poolMax: 2 });
  try {
    await admin.createTopics();
    await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
    await producer.connect();
    fleet.start(0);
    // Sent once the worker consumes, so the wait below measures handling, not start-up.
    const started = await waitUntil(
      () => fleet.allOutput().includes('escrow-worker started'),
      90_000,
      'the probe worker starting',
    ).then(
      () => true,
      (error: unknown) => {
        findings.add(
          check,
          `${(error as Error).message}; its log: ${fleet.allOutput().slice(-500)}`,
        );
        return false;
      },
    );
    if (!started) return;
    const size = deps.maxMessageBytes - 512;
    const key = 'probe-order';
    const huge = Buffer.alloc(size, 0x7b); // '{' × size: not the wire format, so undecodable
    const open = await codec.encode('escrow.orders.v1', {
      ...validMessages['escrow.orders.v1'][0],
      eventId: 'probe-open',
      orderId: key,
    });
    const topic = admin.topic('escrow.orders.v1');
    const [sent] = await producer.send({ topic, acks: -1, messages: [{ key, value: huge }] });
    await producer.send({ topic, acks: -1, messages: [{ key, value: open }] });
    deps.say(
      `probe: a ${size}-byte value (limit ${deps.maxMessageBytes}) then an ORDER_OPENED behind it`,
    );
    // The chaos may have the suite's Postgres stopped right now: a failed
    // look at the inbox means "not yet", never "not handled".
    let lastLookError: string | undefined;
    const opened = await waitUntil(
      async () => {
        try {
          const row: unknown = await db('inbox').where({ dedupe_key: 'event:probe-open' }).first();
          lastLookError = undefined;
          return row !== undefined;
        } catch (error) {
          lastLookError = (error as Error).message;
          return false;
        }
      },
      30_000,
      'the order behind the near-limit value opening',
    ).then(
      () => true,
      () => false,
    );
    if (!opened) {
      const crash = fleet
        .allOutput()
        .split('\n')
        .find((line) => line.includes('Crash:'));
      findings.add(
        check,
        `the ORDER_OPENED behind a ${size}-byte value (max.message.bytes ${deps.maxMessageBytes}) on ` +
          `${topic} was not handled within 30 s: the worker stopped consuming` +
          (crash ? `; its log: ${crash.slice(0, 500)}` : '') +
          (lastLookError === undefined
            ? ''
            : `; the probe's last look at the inbox failed: ${lastLookError.slice(0, 200)}`),
      );
    }
    await fleet.stopAll();
    for (const problem of fleet.exitProblems()) findings.add(check, problem);
    const letters = await readDeadLetters({
      kafka: deps.kafka,
      codec,
      topicPrefix: prefix,
      consumerGroup: `${prefix}dlq-check`,
      timeoutMs: 30_000,
    });
    const kept = letters.find(
      (entry) =>
        entry.sourceTopic === topic &&
        entry.sourcePartition === sent?.partition &&
        entry.sourceOffset === String(sent.baseOffset),
    );
    if (!kept)
      findings.add(
        check,
        `the ${size}-byte value at ${topic} offset ${String(sent?.baseOffset)} is not in the DLQ`,
      );
  } finally {
    await fleet.stopAll();
    await producer.disconnect();
    await admin.disconnect();
    await db.destroy();
  }
}
