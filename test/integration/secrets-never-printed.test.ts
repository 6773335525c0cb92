/**
 * A secured deployment end to end, and every word it prints searched for its
 * secrets. Kafka over SASL_SSL, the registry behind TLS and basic auth in
 * read-only mode, Postgres over verify-full TLS with an owner and a worker
 * role, Redis over TLS with a password, and the operations token: every
 * secret read from a <NAME>_FILE. The deploy steps (`npm run migrate` as the
 * owner granting the worker role, `escrow-worker schemas register`), `npm
 * start` at debug level through a whole story, the operations API's pages
 * (healthz, readyz, metrics, the order, its ledger, reconciliation, refusals),
 * the operator commands, a start refused for each wrong secret, and
 * `services:up` with the secrets in its environment: none of their outputs
 * holds any secret, the wrong ones included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { loadConfig } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import { type CommandResult, runCli, runScript } from '../support/cli';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { type ScratchKafkaSasl, startScratchKafkaSasl } from '../support/scratch-kafka-sasl';
import { type ScratchPostgresTls, startScratchPostgresTls } from '../support/scratch-postgres-tls';
import { type ScratchRedisTls, startScratchRedisTls } from '../support/scratch-redis-tls';
import { type ScratchRegistryProxy, startRegistryProxy } from '../support/scratch-registry-proxy';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const root = path.resolve(__dirname, '..', '..');
const ctx = useTestContext();
const opsPort = randomOpsPort();
let kafka: ScratchKafkaSasl;
let postgres: ScratchPostgresTls;
let redis: ScratchRedisTls;
let registry: ScratchRegistryProxy;
let secretsDir: string;
const opsToken = randomBytes(20).toString('hex');
const wrong = {
  kafka: `wrong-kafka-${randomBytes(6).toString('hex')}`,
  registry: `wrong-registry-${randomBytes(6).toString('hex')}`,
  redis: `wrong-redis-${randomBytes(6).toString('hex')}`,
  postgres: `wrong-postgres-${randomBytes(6).toString('hex')}`,
};
/** Everything any step printed or answered, by where it came from. */
const outputs: { what: string; text: string }[] = [];
const keep = (what: string, text: string) => outputs.push({ what, text });
const keepCommand = (what: string, result: CommandResult) =>
  keep(what, `${result.stdout}\n${result.stderr}`);

/** A file holding a secret, as a mounted Docker or Kubernetes secret. */
const secretFile = (name: string, value: string) => {
  const file = path.join(secretsDir, name);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
};

/** The deployment's environment, with no secret in it: each comes from a file. */
function environment(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'OPS_TOKEN', 'KAFKA_SASL_PASSWORD'])
    delete inherited[name];
  return {
    ...inherited,
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: kafka.worker.username,
    KAFKA_SASL_PASSWORD_FILE: kafka.worker.passwordFile,
    KAFKA_SSL_CA_FILE: kafka.caFile,
    SCHEMA_REGISTRY_URL: registry.url,
    SCHEMA_REGISTRY_USERNAME: registry.username,
    SCHEMA_REGISTRY_PASSWORD_FILE: registry.passwordFile,
    SCHEMA_REGISTRY_CA_FILE: registry.caFile,
    SCHEMA_AUTO_REGISTER: 'false',
    DATABASE_URL_FILE: secretFile('database-url', postgres.url(postgres.worker)),
    REDIS_URL_FILE: secretFile('redis-url', redis.urls(`:${redis.password}`)[0]!),
    REDIS_CA_FILE: redis.caFile,
    OPS_TOKEN_FILE: secretFile('ops-token', opsToken),
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    CONSUMER_GROUP: `${ctx.config.TOPIC_PREFIX}escrow-worker`,
    OPS_PORT: String(opsPort),
    // The most talkative level: a secret in a debug line is printed all the same.
    LOG_LEVEL: 'debug',
    ...overrides,
  };
}

beforeAll(async () => {
  secretsDir = mkdtempSync(path.join(os.tmpdir(), 'escrow-secrets-'));
  [kafka, postgres, redis, registry] = await Promise.all([
    startScratchKafkaSasl(ctx.config.TOPIC_PREFIX),
    startScratchPostgresTls(),
    startScratchRedisTls(1),
    startRegistryProxy(ctx.config.SCHEMA_REGISTRY_URL),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([kafka?.stop(), postgres?.stop(), redis?.stop(), registry?.stop()]);
  rmSync(secretsDir, { recursive: true, force: true });
}, 60_000);

function startWorkerProcess(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => text, exited };
}

async function page(what: string, route: string, token: string | null = opsToken) {
  const response = await fetch(`http://127.0.0.1:${opsPort}${route}`, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  keep(`${what} (${response.status})`, text);
  return { status: response.status, text };
}

test('a secured deployment prints none of its secrets, anywhere', async () => {
  // The deploy pipeline: migrations as the owner, granting the worker role; the schemas.
  const migrated = await runScript(
    'src/db/migrate-cli.ts',
    [],
    environment({
      DATABASE_URL_FILE: secretFile('owner-url', postgres.url(postgres.owner)),
      DATABASE_WORKER_ROLE: postgres.worker.name,
    }),
  );
  keepCommand('npm run migrate', migrated);
  expect(migrated.code).toBe(0);
  const registered = await runCli(['schemas', 'register'], environment());
  keepCommand('schemas register', registered);
  expect(registered.code).toBe(0);

  // The worker, through a whole story.
  const worker = startWorkerProcess(environment());
  try {
    await waitUntil(
      () => worker.output().includes('escrow-worker started'),
      60_000,
      'the secured worker started',
    );
    const config = loadConfig(environment({ LOG_LEVEL: 'silent' }));
    const codec = RegistryCodec.fromConfig(config);
    const topics: InboundTopic[] = [
      'escrow.orders.v1',
      'escrow.payment-confirmed.v1',
      'escrow.milestone-reached.v1',
    ];
    await codec.lookUpSchemas(topics);
    const producer = createKafka(config, 'secrets-test').producer();
    await producer.connect();
    const orderId = 'o-secured';
    const story: [InboundTopic, Record<string, unknown>][] = [
      ['escrow.orders.v1', { ...validMessages['escrow.orders.v1'][0], orderId }],
      [
        'escrow.payment-confirmed.v1',
        {
          ...validMessages['escrow.payment-confirmed.v1'][0],
          orderId,
          gatewayReference: 'ch-secured',
        },
      ],
      [
        'escrow.milestone-reached.v1',
        { ...validMessages['escrow.milestone-reached.v1'][0], orderId, finalAmount: null },
      ],
    ];
    for (const [topic, value] of story) {
      await producer.send({
        topic: `${config.TOPIC_PREFIX}${topic}`,
        messages: [{ key: orderId, value: await codec.encode(topic, value) }],
      });
    }
    await producer.disconnect();
    await waitUntil(
      async () => (await page('order', `/orders/${orderId}`)).text.includes('"RELEASED"'),
      60_000,
      'the secured story released its milestone',
    );
    await page('healthz', '/healthz');
    const ready = await page('readyz', '/readyz');
    expect(ready.status).toBe(200);
    await page('metrics', '/metrics');
    await page('ledger', `/orders/${orderId}/ledger`);
    await page('reconciliation', '/reconciliation');
    expect((await page('no token', `/orders/${orderId}`, null)).status).toBe(401);
    expect((await page('wrong token', `/orders/${orderId}`, `x${opsToken}`)).status).toBe(401);

    for (const args of [['reconcile'], ['dlq', 'list'], ['schemas', 'check'], ['fees', 'list']]) {
      const result = await runCli(args, environment());
      keepCommand(args.join(' '), result);
      expect({ command: args.join(' '), code: result.code }).toEqual({
        command: args.join(' '),
        code: 0,
      });
    }
  } finally {
    worker.child.kill('SIGTERM');
    await worker.exited;
    keep('npm start (debug level)', worker.output());
  }
  expect(worker.output()).toContain('escrow-worker started');

  // A start refused for each wrong secret: the message names the variable, not the value.
  const refusals: Record<string, NodeJS.ProcessEnv> = {
    'wrong Kafka password': environment({
      KAFKA_SASL_PASSWORD_FILE: secretFile('kafka-wrong', wrong.kafka),
    }),
    'wrong registry password': environment({
      SCHEMA_REGISTRY_PASSWORD_FILE: secretFile('registry-wrong', wrong.registry),
    }),
    'wrong Redis password': environment({
      REDIS_URL_FILE: secretFile('redis-wrong', redis.urls(`:${wrong.redis}`)[0]!),
    }),
    'wrong Postgres password': environment({
      DATABASE_URL_FILE: secretFile(
        'postgres-wrong',
        postgres.url(postgres.worker, { password: wrong.postgres }),
      ),
    }),
  };
  for (const [what, env] of Object.entries(refusals)) {
    const refused = startWorkerProcess(env);
    const code = await refused.exited;
    keep(what, refused.output());
    expect({ what, code }).toEqual({ what, code: 1 });
    expect(refused.output()).toContain('escrow-worker failed to start');
  }

  // The local services' command, run with the secrets in its environment.
  const up = await runScript('infra/services/cli.ts', ['up'], {
    ...environment(),
    DATABASE_URL: postgres.url(postgres.worker),
    OPS_TOKEN: opsToken,
  });
  keepCommand('services:up', up);

  const secrets = [
    kafka.worker.password,
    kafka.admin.password,
    registry.password,
    postgres.owner.password,
    postgres.worker.password,
    redis.password,
    opsToken,
    ...Object.values(wrong),
  ];
  for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(12);
  const leaks = outputs.flatMap(({ what, text }) =>
    secrets.filter((secret) => text.includes(secret)).map(() => what),
  );
  expect(leaks).toEqual([]);
  // The search had something to search: every step printed or answered.
  expect(outputs.filter(({ text }) => text.trim().length === 0).map(({ what }) => what)).toEqual(
    [],
  );
}, 300_000);
