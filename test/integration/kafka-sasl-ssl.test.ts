/**
 * The worker against a Kafka broker that takes only SASL_SSL (SCRAM-SHA-512,
 * a certificate signed by a CA the test makes, ACLs that give the worker's
 * user nothing but its own topics and groups): a whole story runs through it,
 * and every setting that does not fit the listener stops the start within
 * seconds with a message naming the variable and the fix.
 *
 * The scratch broker takes the test context's topic prefix; the context's own
 * configuration still points at the local broker, where its teardown finds
 * none of this file's topics (they vanish with the scratch broker).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { type Config, configEnvironment, loadConfig } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import { checkKafkaConnection, KafkaConnectionError } from '../../src/kafka/connection-check';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { collectMessages } from '../support/kafka';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { type ScratchKafkaSasl, startScratchKafkaSasl } from '../support/scratch-kafka-sasl';
import { useTestContext } from '../support/test-context';
import { spawnWorker } from '../support/worker-process';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
const log = createLogger({ LOG_LEVEL: 'silent' });
let scratch: ScratchKafkaSasl;
let worker: RunningWorker | undefined;

/** The test context's configuration with the scratch broker's settings over it. */
function secured(overrides: Record<string, string | undefined> = {}): Config {
  const env: Record<string, string | undefined> = {
    ...configEnvironment(ctx.config),
    KAFKA_BROKERS: scratch.brokers,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: scratch.worker.username,
    KAFKA_SASL_PASSWORD_FILE: scratch.worker.passwordFile,
    KAFKA_SSL_CA_FILE: scratch.caFile,
    ...overrides,
  };
  return loadConfig(env);
}

beforeAll(async () => {
  scratch = await startScratchKafkaSasl(ctx.config.TOPIC_PREFIX);
}, 90_000);
ctx.beforeTeardown(async () => {
  await worker?.stop();
});
afterAll(async () => {
  await scratch?.stop();
}, 30_000);

test('through SASL_SSL with SCRAM-SHA-512: ORDER_OPENED, a payment and reached end in PAYOUT_REQUESTED', async () => {
  const config = secured();
  expect(config.KAFKA_SASL_PASSWORD).toBe(scratch.worker.password);
  worker = await startWorker(config, log);
  const kafka: Kafka = createKafka(config, 'sasl-ssl-test');
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
    'escrow.payouts.v1',
  ]);
  const topic = (name: string) => `${config.TOPIC_PREFIX}${name}`;
  const producer = kafka.producer();
  await producer.connect();
  const produce = async (name: InboundTopic, message: Record<string, unknown>) =>
    producer.send({
      topic: topic(name),
      messages: [{ key: 'o-sasl', value: await codec.encode(name, message) }],
    });
  try {
    await produce('escrow.orders.v1', {
      ...validMessages['escrow.orders.v1'][0],
      orderId: 'o-sasl',
    });
    await produce('escrow.payment-confirmed.v1', {
      ...validMessages['escrow.payment-confirmed.v1'][0],
      orderId: 'o-sasl',
      gatewayReference: 'ch-sasl',
    });
    await produce('escrow.milestone-reached.v1', {
      ...validMessages['escrow.milestone-reached.v1'][0],
      orderId: 'o-sasl',
      finalAmount: null,
    });
  } finally {
    await producer.disconnect();
  }
  const received = await collectMessages(
    kafka,
    `${config.CONSUMER_GROUP}-payouts`,
    [topic('escrow.payouts.v1')],
    (all) => all.some((entry) => entry.message.key?.toString() === 'o-sasl'),
    45_000,
  );
  const payout = received.find((entry) => entry.message.key?.toString() === 'o-sasl')!;
  expect(await codec.decode('escrow.payouts.v1', payout.message.value)).toMatchObject({
    ok: true,
    value: {
      type: 'PAYOUT_REQUESTED',
      orderId: 'o-sasl',
      grossAmount: '1000.00',
      feeAmount: '100.00',
      netAmount: '900.00',
    },
  });
  // It all went through the scratch broker: the local one has none of these topics.
  expect(
    (await topicsOf(ctx.config)).filter((name) => name.startsWith(config.TOPIC_PREFIX)),
  ).toEqual([]);
  expect(await topicsOf(config)).toContain(topic('escrow.payouts.v1'));
}, 90_000);

async function topicsOf(config: Config): Promise<string[]> {
  const admin = createKafka(config, 'sasl-ssl-test-topics').admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

test('the worker user may create only topics with its prefix (ACLs are on)', async () => {
  const admin = createKafka(secured(), 'sasl-ssl-test-acl').admin();
  await admin.connect();
  try {
    await expect(
      admin.createTopics({ topics: [{ topic: `outside-${ctx.config.TOPIC_PREFIX}` }] }),
    ).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
    });
  } finally {
    await admin.disconnect();
  }
});

/** Starts a worker that must not start; resolves the error it stopped with and how long it took. */
async function refusedStart(config: Config): Promise<{ error: KafkaConnectionError; ms: number }> {
  const started = Date.now();
  let thrown: unknown;
  try {
    const refused = await startWorker(config, log);
    await refused.stop();
  } catch (error) {
    thrown = error;
  }
  const ms = Date.now() - started;
  expect(thrown).toBeInstanceOf(KafkaConnectionError);
  return { error: thrown as KafkaConnectionError, ms };
}

const wrongPasswordFile = () => {
  const file = path.join(path.dirname(scratch.caFile), 'wrong.password');
  writeFileSync(file, 'not-the-password-of-worker\n');
  return file;
};

test.each([
  {
    name: 'a wrong password',
    overrides: () => ({ KAFKA_SASL_PASSWORD_FILE: wrongPasswordFile() }),
    code: 'KAFKA_SASL_REFUSED',
    says: ['KAFKA_SASL_USERNAME=worker', 'check KAFKA_SASL_PASSWORD'],
  },
  {
    name: 'no CA file (the system trust store only)',
    overrides: () => ({ KAFKA_SSL_CA_FILE: undefined }),
    code: 'KAFKA_TLS_UNTRUSTED',
    says: ['KAFKA_SSL_CA_FILE is unset', 'set KAFKA_SSL_CA_FILE to a PEM file of the CA'],
  },
  {
    name: 'a CA file of another CA',
    overrides: () => ({ KAFKA_SSL_CA_FILE: scratch.otherCaFile }),
    code: 'KAFKA_TLS_UNTRUSTED',
    says: ['is not signed by a CA in KAFKA_SSL_CA_FILE=/', 'set KAFKA_SSL_CA_FILE to'],
  },
  {
    name: 'a PLAINTEXT client',
    overrides: () => ({
      KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD_FILE: undefined,
      KAFKA_SSL_CA_FILE: undefined,
    }),
    code: 'KAFKA_PROTOCOL_MISMATCH',
    says: ['KAFKA_SECURITY_PROTOCOL=PLAINTEXT matches the listener', 'SSL or SASL_SSL'],
  },
  {
    name: 'TLS without SASL (SSL)',
    overrides: () => ({
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD_FILE: undefined,
    }),
    code: 'KAFKA_PROTOCOL_MISMATCH',
    says: ['KAFKA_SECURITY_PROTOCOL=SSL matches the listener', 'needs SASL_SSL'],
  },
  {
    name: 'a mechanism the listener does not enable',
    overrides: () => ({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' }),
    code: 'KAFKA_SASL_MECHANISM_UNSUPPORTED',
    says: ['KAFKA_SASL_MECHANISM=SCRAM-SHA-256', 'set KAFKA_SASL_MECHANISM'],
  },
  {
    name: 'a TLS client against the local PLAINTEXT broker',
    overrides: () => ({
      KAFKA_BROKERS: ctx.config.KAFKA_BROKERS.join(','),
      KAFKA_SECURITY_PROTOCOL: 'SSL',
      KAFKA_SASL_MECHANISM: undefined,
      KAFKA_SASL_USERNAME: undefined,
      KAFKA_SASL_PASSWORD_FILE: undefined,
    }),
    code: 'KAFKA_PROTOCOL_MISMATCH',
    says: ['TLS handshake', 'KAFKA_SECURITY_PROTOCOL=SSL matches the listener', 'PLAINTEXT'],
  },
])(
  'the start stops within seconds on $name, naming the variable and the fix',
  async ({ overrides, code, says }) => {
    const { error, ms } = await refusedStart(secured(overrides()));
    expect(ms).toBeLessThan(5000);
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code, retryable: false });
    for (const words of says) expect(error.message).toContain(words);
    expect(error.message).not.toContain(scratch.worker.password);
  },
  20_000,
);

test('an unreachable broker is waited for as long as allowed, then named with KAFKA_BROKERS', async () => {
  const config = secured({ KAFKA_BROKERS: '127.0.0.1:1' });
  const started = Date.now();
  const failure = checkKafkaConnection(config, { unreachableWaitMs: 1500 });
  await expect(failure).rejects.toMatchObject({
    code: 'KAFKA_UNREACHABLE',
    message: expect.stringContaining(
      'KAFKA_BROKERS=127.0.0.1:1 within 2 s (ECONNREFUSED)',
    ) as string,
  });
  expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  expect(Date.now() - started).toBeLessThan(6000);
});

test('npm start with a wrong password exits 1 with the message alone: no stack, no password', async () => {
  const wrong = 'wrong-password-given-to-npm-start';
  const config = secured({ KAFKA_SASL_PASSWORD_FILE: undefined, KAFKA_SASL_PASSWORD: wrong });
  const child = spawnWorker(config);
  const exit = await child.exited;
  const output = child.output();
  expect(exit).toEqual({ code: 1, signal: null });
  expect(output).toContain(
    'escrow-worker failed to start: Kafka refused the SASL credentials of KAFKA_SASL_USERNAME=worker',
  );
  expect(output).toContain('check KAFKA_SASL_PASSWORD');
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toContain(wrong);
  expect(output).not.toContain(scratch.worker.password);
}, 30_000);
