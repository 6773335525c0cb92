/**
 * The schema registry behind a real TLS + basic-auth proxy (nginx), in
 * read-only mode: the deploy pipeline registers the subjects with
 * `escrow-worker schemas register` through the proxy, and the worker, trusting
 * the proxy's CA and sending its credentials (the password from a file), looks
 * them up, starts, reports the registry ready and publishes. Each setting that
 * is wrong stops the start within seconds with a message naming the variable
 * to fix, and never the password.
 */
import { RegistryAccessRefused } from '../../src/codec/registry-access';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { loadConfig, type Config } from '../../src/config';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { startWorker } from '../../src/worker';
import { runCli } from '../support/cli';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { type ScratchRegistryProxy, startRegistryProxy } from '../support/scratch-registry-proxy';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const opsPort = randomOpsPort();
const ctx = useTestContext({ SCHEMA_AUTO_REGISTER: 'false', OPS_PORT: String(opsPort) });
const log = createLogger({ LOG_LEVEL: 'silent' });
let proxy: ScratchRegistryProxy;

beforeAll(async () => {
  proxy = await startRegistryProxy(ctx.config.SCHEMA_REGISTRY_URL);
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
});

/** The test context's configuration, reaching the registry through the proxy as `env` says. */
const through = (env: Record<string, string>): Config =>
  loadConfig({
    ...process.env,
    DATABASE_URL: ctx.config.DATABASE_URL,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    CONSUMER_GROUP: ctx.config.CONSUMER_GROUP,
    OPS_PORT: String(opsPort),
    SCHEMA_AUTO_REGISTER: 'false',
    LOG_LEVEL: 'silent',
    SCHEMA_REGISTRY_URL: proxy.url,
    ...env,
  });
const allowed = () => ({
  SCHEMA_REGISTRY_USERNAME: proxy.username,
  SCHEMA_REGISTRY_PASSWORD_FILE: proxy.passwordFile,
  SCHEMA_REGISTRY_CA_FILE: proxy.caFile,
});

async function startRefused(config: Config): Promise<RegistryAccessRefused> {
  const started = Date.now();
  let thrown: unknown;
  try {
    const worker = await startWorker(config, log);
    await worker.stop();
  } catch (error) {
    thrown = error;
  }
  expect(Date.now() - started).toBeLessThan(12_000);
  expect(thrown).toBeInstanceOf(RegistryAccessRefused);
  const message = (thrown as Error).message;
  expect(message).not.toContain(proxy.password);
  return thrown as RegistryAccessRefused;
}

test('schemas register through the proxy, then a read-only worker starts, is ready and publishes', async () => {
  const registered = await runCli(['schemas', 'register'], {
    ...process.env,
    SCHEMA_REGISTRY_URL: proxy.url,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    LOG_LEVEL: 'warn',
    ...allowed(),
  });
  expect({ code: registered.code, stderr: registered.stderr }).toEqual({ code: 0, stderr: '' });
  expect(registered.stdout).not.toContain(proxy.password);

  const config = through(allowed());
  const worker = await startWorker(config, log);
  try {
    const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
    const body = (await ready.json()) as { checks: Record<string, string> };
    expect(body.checks.registry).toBe('ok');
    expect(JSON.stringify(body)).not.toContain(proxy.password);

    const writer = RegistryCodec.fromConfig(config);
    await writer.lookUpSchemas(['escrow.orders.v1']);
    const producer = createKafka(config, 'registry-proxy-test').producer();
    await producer.connect();
    await producer.send({
      topic: `${config.TOPIC_PREFIX}escrow.orders.v1`,
      messages: [
        {
          key: 'o-proxied',
          value: await writer.encode('escrow.orders.v1', {
            ...validMessages['escrow.orders.v1'][0],
            eventId: 'open-proxied',
            orderId: 'o-proxied',
          }),
        },
      ],
    });
    await producer.disconnect();
    await waitUntil(
      async () =>
        (await ctx.db('outbox').where({ message_key: 'o-proxied' }).whereNotNull('published_at'))
          .length > 0,
      30_000,
      'the ORDER_OPENED outcome, encoded with an id looked up through the proxy, published',
    );
  } finally {
    await worker.stop();
  }
}, 90_000);

test('a wrong password is refused at start, naming SCHEMA_REGISTRY_PASSWORD', async () => {
  const refusal = await startRefused(
    through({
      ...allowed(),
      SCHEMA_REGISTRY_PASSWORD_FILE: '',
      SCHEMA_REGISTRY_PASSWORD: 'wrong-one',
    }),
  );
  expect(refusal.message).toContain('answered 401');
  expect(refusal.message).toContain('check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD');
});

test('no credentials at all: the message says to set them', async () => {
  const refusal = await startRefused(through({ SCHEMA_REGISTRY_CA_FILE: proxy.caFile }));
  expect(refusal.message).toContain('set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD');
});

test.each([
  ['no CA file (the system trust store)', () => ({ SCHEMA_REGISTRY_CA_FILE: '' })],
  ['another CA', () => ({ SCHEMA_REGISTRY_CA_FILE: proxy.otherCaFile })],
])(
  'an untrusted certificate (%s) is refused at start, naming SCHEMA_REGISTRY_CA_FILE',
  async (_, env) => {
    const refusal = await startRefused(through({ ...allowed(), ...env() }));
    expect(refusal.message).toContain('does not trust');
    expect(refusal.message).toContain('set SCHEMA_REGISTRY_CA_FILE to the CA that signs it');
  },
);

test('http:// against the TLS listener is refused at start, saying to use https://', async () => {
  const refusal = await startRefused(
    through({
      ...allowed(),
      SCHEMA_REGISTRY_CA_FILE: '',
      SCHEMA_REGISTRY_URL: proxy.url.replace('https:', 'http:'),
    }),
  );
  expect(refusal.message).toContain('https://');
});
