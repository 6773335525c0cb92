/**
 * The local registry keeps its schemas: a message produced to Kafka before the
 * registry restarts still decodes after it, through the id the message names.
 *
 * The registry under test is a second copy of the one services:up runs (the
 * same runner jar and storage), started on a port and database of its own, so
 * stopping it does not disturb the test files that run beside this one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { dropDatabase } from '../../infra/services/postgres';
import {
  type LocalRegistryLayout,
  registryAnswers,
  startRegistry,
} from '../../infra/services/registry';
import { stopProcess } from '../../infra/services/shell';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { subjectOf } from '../../src/codec/schemas';
import { inboundValidators } from '../../src/messages/inbound';
import { collectMessages, createTopics } from '../support/kafka';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const topic = 'escrow.payment-confirmed.v1';
let scratch: string;
let layout: LocalRegistryLayout;
let registryPid: number | undefined;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'escrow-registry-restart-'));
  layout = {
    // Below the ephemeral range, so no outgoing connection takes it between the stop and the start.
    port: randomOpsPort(),
    database: `${ctx.databaseName}_registry`,
    logFile: path.join(scratch, 'registry.log'),
    record: false,
  };
});

afterAll(async () => {
  if (registryPid !== undefined) await stopProcess(registryPid, 30_000);
  await dropDatabase(layout.database);
  rmSync(scratch, { recursive: true, force: true });
});

/** The schema id a Confluent wire-format value names (bytes 1 to 4, after the magic byte). */
const schemaIdOf = (value: Buffer) => value.readInt32BE(1);

test('a message produced before a registry restart decodes after it, by the same id', async () => {
  const registryUrl = `http://127.0.0.1:${layout.port}`;
  const firstPid = await startRegistry(layout);
  if (firstPid === undefined) throw new Error(`a registry already answered on port ${layout.port}`);
  registryPid = firstPid;

  const before = new RegistryCodec(registryUrl, ctx.config.TOPIC_PREFIX);
  await before.registerSchemas([topic]);
  const message = validMessages[topic][0];
  const value = await before.encode(topic, message);
  const schemaId = schemaIdOf(value);

  const kafka = new Kafka({ brokers: ctx.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const kafkaTopic = `${ctx.config.TOPIC_PREFIX}${topic}`;
  await createTopics(kafka, [kafkaTopic]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: kafkaTopic, messages: [{ key: 'restart', value }] });
  await producer.disconnect();

  registryPid = undefined;
  await stopProcess(firstPid, 30_000);
  expect(await registryAnswers(layout.port)).toBe(false);
  registryPid = await startRegistry(layout);

  // The subject and the id are still there...
  const subjects = (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
  expect(subjects).toContain(subjectOf(ctx.config.TOPIC_PREFIX, topic));
  expect((await fetch(`${registryUrl}/schemas/ids/${schemaId}`)).status).toBe(200);

  // ...so a codec that knows nothing of the first run decodes what is on the topic.
  const [received] = await collectMessages(
    kafka,
    `${ctx.config.TOPIC_PREFIX}restart-reader`,
    [kafkaTopic],
    (messages) => messages.length >= 1,
  );
  const after = new RegistryCodec(registryUrl, ctx.config.TOPIC_PREFIX);
  const decoded = await after.decode(topic, received!.message.value);
  expect(decoded).toEqual({ ok: true, value: message });
  expect(inboundValidators[topic].parse(decoded.ok ? decoded.value : undefined)).toEqual(message);

  // Registering the same schema again answers with the id the message carries.
  await after.registerSchemas([topic]);
  expect(schemaIdOf(await after.encode(topic, message))).toBe(schemaId);
}, 120_000);
