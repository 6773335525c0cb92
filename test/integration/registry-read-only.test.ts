/**
 * Read-only registry mode against the real registry: with
 * SCHEMA_AUTO_REGISTER=false the worker registers nothing and stops at start
 * naming every subject it lacks and the command that registers them; the deploy
 * pipeline's `escrow-worker schemas check` says the same and `schemas register`
 * registers them; then the worker starts, looks up their ids, and publishes.
 */
import { RegistryCodec, SchemasNotRegistered } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics, subjectOf } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { startWorker } from '../../src/worker';
import { runCli, type CommandResult } from '../support/cli';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker } from '../support/worker-process';

const ctx = useTestContext({ SCHEMA_AUTO_REGISTER: 'false', OPS_PORT: String(randomOpsPort()) });
const subjects = () =>
  [...inboundTopics, ...outboundTopics].map((topic) => subjectOf(ctx.config.TOPIC_PREFIX, topic));
const log = createLogger({ LOG_LEVEL: 'silent' });

async function registeredSubjects(): Promise<string[]> {
  const response = await fetch(`${ctx.config.SCHEMA_REGISTRY_URL}/subjects`);
  const all = (await response.json()) as string[];
  return all.filter((subject) => subject.startsWith(ctx.config.TOPIC_PREFIX)).sort();
}

const schemas = (args: string[]): Promise<CommandResult> =>
  runCli(['schemas', ...args], {
    ...process.env,
    SCHEMA_REGISTRY_URL: ctx.config.SCHEMA_REGISTRY_URL,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    LOG_LEVEL: 'warn',
  });

/** `schemas check --json`: its exit code and its report. */
async function checkReport() {
  const check = await schemas(['check', '--json']);
  const report = JSON.parse(check.stdout) as {
    ok: boolean;
    subjects: { subject: string; id: number | null; compatible: boolean | null }[];
  };
  return { code: check.code, report };
}

test('with nothing registered the worker stops at start, naming every subject and the command, and registers nothing', async () => {
  let thrown: unknown;
  const started = Date.now();
  try {
    const worker = await startWorker(ctx.config, log);
    await worker.stop();
  } catch (error) {
    thrown = error;
  }
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(thrown).toBeInstanceOf(SchemasNotRegistered);
  const error = thrown as SchemasNotRegistered;
  expect([...error.subjects].sort()).toEqual(subjects().sort());
  for (const subject of subjects()) expect(error.message).toContain(subject);
  expect(error.message).toContain('escrow-worker schemas register');
  expect(await registeredSubjects()).toEqual([]);

  const { code, report } = await checkReport();
  expect(code).toBe(1);
  expect(report.ok).toBe(false);
  expect(report.subjects.map((s) => [s.subject, s.id, s.compatible])).toEqual(
    subjects().map((subject) => [subject, null, null]),
  );
  expect(await registeredSubjects()).toEqual([]);
}, 60_000);

test('`npm start` in read-only mode exits 1 within seconds with the message, not a stack trace', async () => {
  const started = Date.now();
  const worker = spawnWorker(ctx.config);
  const exit = await worker.exited;
  expect(exit.code).toBe(1);
  expect(Date.now() - started).toBeLessThan(20_000);
  const output = worker.output();
  expect(output).toContain('escrow-worker failed to start: SCHEMA_AUTO_REGISTER=false');
  expect(output).toContain('escrow-worker schemas register');
  expect(output).not.toMatch(/^\s+at /m);
}, 30_000);

test('after `schemas register` the check passes and the read-only worker starts and publishes with the registered ids', async () => {
  const registered = await schemas(['register']);
  expect({ code: registered.code, stderr: registered.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await registeredSubjects()).toEqual(subjects().sort());
  for (const subject of subjects()) expect(registered.stdout).toContain(subject);

  const { code, report } = await checkReport();
  expect(code).toBe(0);
  expect(report.ok).toBe(true);
  for (const entry of report.subjects) {
    expect(entry.id).toEqual(expect.any(Number));
    expect(entry.compatible).toBe(true);
  }

  const worker = await startWorker(ctx.config, log);
  try {
    // An outcome published by the relay was encoded with an id the worker looked up.
    const writer = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
    await writer.lookUpSchemas(['escrow.orders.v1']);
    const producer = createKafka(ctx.config, 'registry-read-only-test').producer();
    await producer.connect();
    await producer.send({
      topic: `${ctx.config.TOPIC_PREFIX}escrow.orders.v1`,
      messages: [
        {
          key: 'o-read-only',
          value: await writer.encode('escrow.orders.v1', {
            ...validMessages['escrow.orders.v1'][0],
            eventId: 'open-read-only',
            orderId: 'o-read-only',
          }),
        },
      ],
    });
    await producer.disconnect();
    await waitUntil(
      async () =>
        (await ctx.db('outbox').where({ message_key: 'o-read-only' }).whereNotNull('published_at'))
          .length > 0,
      30_000,
      'the ORDER_OPENED outcome published by the read-only worker',
    );
  } finally {
    await worker.stop();
  }
  // The worker changed nothing in the registry.
  expect(await registeredSubjects()).toEqual(subjects().sort());
}, 90_000);
