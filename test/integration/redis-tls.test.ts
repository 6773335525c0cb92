/**
 * Redis with a password or an ACL user over TLS, for every node of a Redlock
 * quorum, against three redis-servers of this file's own that speak TLS only
 * (test/support/scratch-redis-tls.ts). The lock service and a real worker
 * start take and release locks over TLS; every way the settings can be wrong
 * stops the start within seconds with a message naming the node, the variable
 * and the fix; a node that is down does not; and no password appears in an
 * error or a log line.
 */
import { inspect } from 'node:util';
import pino from 'pino';
import { type Config, configEnvironment, loadConfig } from '../../src/config';
import type { Logger } from '../../src/logging/logger';
import { createLockService } from '../../src/locks/redlock';
import { RedisRefused, type RefusalReason } from '../../src/locks/redis-failure';
import { checkRedisNodes } from '../../src/locks/redis-start-check';
import { startWorker } from '../../src/worker';
import { randomOpsPort } from '../support/ops-port';
import { type ScratchRedisTls, startScratchRedisTls } from '../support/scratch-redis-tls';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker } from '../support/worker-process';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let redis: ScratchRedisTls;
beforeAll(async () => {
  redis = await startScratchRedisTls(3);
}, 60_000);
afterAll(async () => {
  await redis?.stop();
});

/** The servers' passwords and any a configuration gives in its URLs, right or wrong. */
const secrets = (config?: Config) => [
  redis.password,
  redis.aclUser.password,
  ...(config?.REDIS_URL ?? [])
    .map((url) => new URL(url).password)
    .filter((password) => password !== ''),
];

/** A logger whose lines the test reads, at debug so that nothing is left out. */
function capturedLogger(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { log, text: () => lines.join('') };
}

/** The test's configuration with Redis pointed elsewhere, through loadConfig as the worker reads it. */
function configWith(redisUrls: string[], caFile: string | undefined): Config {
  return loadConfig({
    ...configEnvironment(ctx.config),
    REDIS_URL: redisUrls.join(','),
    REDIS_CA_FILE: caFile ?? '',
  });
}

function expectNoSecret(text: string, config?: Config): void {
  for (const secret of secrets(config)) expect(text).not.toContain(secret);
}

test('the lock service takes and releases a lock on every node of a three-node quorum over TLS, with the password and with an ACL user', async () => {
  for (const credentials of [
    `:${redis.password}`,
    `${redis.aclUser.name}:${redis.aclUser.password}`,
  ]) {
    const config = configWith(redis.urls(credentials), redis.caFile);
    const { log, text } = capturedLogger();
    await checkRedisNodes(config, log);
    const locks = createLockService(config, log);
    try {
      // Every node connected first (they connect at their first command): a lock
      // granted by two of three while the third still shakes hands is a quorum,
      // but not the "on every node" this test shows.
      await Promise.all(locks.clients.map((client) => client.ping()));
      const resource = `escrow:test:redis-tls:${credentials.split(':')[0] || 'default'}`;
      const lock = await locks.redlock.acquire([resource], 5000);
      for (const client of locks.clients) expect(await client.get(resource)).toBe(lock.value);
      await lock.release();
      // Redlock's release resolves once a quorum (two of three) has released: the
      // third node's delete may still be on its way, so wait for it rather than read at once.
      await waitUntil(
        async () =>
          (await Promise.all(locks.clients.map((client) => client.get(resource)))).every(
            (value) => value === null,
          ),
        5000,
        'the lock released on every node',
      );
    } finally {
      await locks.close();
    }
    expect(text()).toBe('');
  }
}, 30_000);

test('a worker starts over TLS with the password, reports Redis ready, and logs no password', async () => {
  const config = configWith(redis.urls(`:${redis.password}`), redis.caFile);
  const { log, text } = capturedLogger();
  const worker = await startWorker(config, log);
  try {
    const ready = await fetch(`http://127.0.0.1:${config.OPS_PORT}/readyz`);
    const checks = ((await ready.json()) as { checks: Record<string, string> }).checks;
    expect(checks.redis).toBe('ok');
  } finally {
    await worker.stop();
  }
  expect(text()).toContain('escrow-worker started');
  expect(text()).not.toContain('Redis node');
  expectNoSecret(text());
}, 60_000);

const failures: [string, () => Config, RefusalReason, string][] = [
  [
    'a wrong password',
    () => configWith(redis.urls(':not-the-password'), redis.caFile),
    'CREDENTIALS_REFUSED',
    'check the password in REDIS_URL',
  ],
  [
    'a wrong password of the ACL user',
    () => configWith(redis.urls(`${redis.aclUser.name}:${redis.password}`), redis.caFile),
    'CREDENTIALS_REFUSED',
    'check the password in REDIS_URL',
  ],
  [
    'no password',
    () => configWith(redis.urls(''), redis.caFile),
    'PASSWORD_MISSING',
    'check the password in REDIS_URL',
  ],
  [
    'no REDIS_CA_FILE (the server is signed by a CA of its own)',
    () => configWith(redis.urls(`:${redis.password}`), undefined),
    'CERTIFICATE_UNTRUSTED',
    'set REDIS_CA_FILE to the CA that signs the server',
  ],
  [
    'a REDIS_CA_FILE of another CA',
    () => configWith(redis.urls(`:${redis.password}`), redis.otherCaFile),
    'CERTIFICATE_UNTRUSTED',
    'set REDIS_CA_FILE to the CA that signs the server',
  ],
  [
    'a host name the certificate does not carry',
    () =>
      configWith(
        redis.urls(`:${redis.password}`).map((url) => url.replace('127.0.0.1', 'localhost')),
        redis.caFile,
      ),
    'CERTIFICATE_NAME_MISMATCH',
    'use in REDIS_URL a host name the certificate carries',
  ],
  [
    'redis:// against the TLS port',
    () => configWith(redis.urls(`:${redis.password}`, 'redis'), undefined),
    'TLS_REQUIRED',
    'use rediss:// in REDIS_URL',
  ],
  [
    "rediss:// against the machine's plaintext Redis",
    () => configWith([ctx.config.REDIS_URL[0]!.replace('redis:', 'rediss:')], redis.caFile),
    'TLS_NOT_SPOKEN',
    "use the server's TLS port in REDIS_URL",
  ],
];

test.each(failures)(
  'with %s the worker stops at start within seconds, naming every node and the fix, and no password',
  async (_case, config, reason, fix) => {
    const { log, text } = capturedLogger();
    const given = config();
    const started = Date.now();
    const thrown = await startWorker(given, log).then(
      async (worker) => {
        await worker.stop();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(thrown).toBeInstanceOf(RedisRefused);
    const error = thrown as RedisRefused;
    expect(error).toMatchObject({ code: 'REDIS_REFUSED', retryable: false });
    expect(error.refusals.map((refusal) => refusal.reason)).toEqual(
      given.REDIS_URL.map(() => reason),
    );
    for (const url of given.REDIS_URL) expect(error.message).toContain(new URL(url).host);
    expect(error.message).toContain(fix);
    expect(error.message).toMatch(/REDIS_URL|REDIS_CA_FILE/);
    expectNoSecret(`${inspect(error, { depth: null })}\n${text()}`, given);
  },
  30_000,
);

test('a quorum with one node refusing names that node only', async () => {
  const urls = redis.urls(`:${redis.password}`);
  urls[2] = urls[2]!.replace(redis.password, 'not-the-password');
  const error = await checkRedisNodes(configWith(urls, redis.caFile), capturedLogger().log).then(
    () => undefined,
    (thrown: unknown) => thrown as RedisRefused,
  );
  expect(error?.refusals).toEqual([
    expect.objectContaining({ node: `rediss://127.0.0.1:${redis.ports[2]}`, code: 'WRONGPASS' }),
  ]);
});

test('`npm start` with a wrong password exits 1 within seconds printing the fix, no stack trace and no password', async () => {
  const urls = redis
    .urls(`:${redis.password}`)
    .map((url) => url.replace(redis.password, 'wrong-password'));
  const started = Date.now();
  const config = configWith(urls, redis.caFile);
  const worker = spawnWorker(config);
  const exit = await worker.exited;
  expect(exit.code).toBe(1);
  expect(Date.now() - started).toBeLessThan(20_000);
  const output = worker.output();
  expect(output).toContain('escrow-worker failed to start: Redis refused the worker at start');
  expect(output).toContain('check the password in REDIS_URL');
  expect(output).not.toMatch(/^\s+at /m);
  expectNoSecret(output, config);
}, 30_000);

test('a worker whose Redis is down at start starts all the same, warning of the node (the locks are an efficiency guard)', async () => {
  const { log, text } = capturedLogger();
  const started = Date.now();
  const worker = await startWorker(configWith(['redis://127.0.0.1:1'], undefined), log);
  await worker.stop();
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(text()).toContain('Redis node does not answer at start');
  expect(text()).toContain('"code":"ECONNREFUSED"');
  expect(text()).toContain('escrow-worker started');
}, 60_000);

test('a node that is down at start is logged and the start goes on; the locks go on with the majority', async () => {
  const config = configWith(redis.urls(`:${redis.password}`), redis.caFile);
  const { log, text } = capturedLogger();
  const locks = createLockService(config, log);
  try {
    await redis.kill(2);
    await checkRedisNodes(config, log);
    expect(text()).toContain('Redis node does not answer at start');
    expect(text()).toContain(`rediss://127.0.0.1:${redis.ports[2]}`);
    const lock = await locks.redlock.acquire(['escrow:test:redis-tls:majority'], 5000);
    expect(await locks.clients[0]!.get('escrow:test:redis-tls:majority')).toBe(lock.value);
    await lock.release();
  } finally {
    await locks.close();
  }
  expectNoSecret(text());
}, 30_000);
