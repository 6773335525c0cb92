/**
 * Broken environments end in a message that says what is wrong and how to fix
 * it, never a hang or a bare stack trace. Each case builds the broken condition
 * for real (a port held by another program, a PATH without Java or Maven, an
 * unreachable Maven repository, a corrupt Kafka data folder, Postgres down) on
 * ports and folders of its own, so the shared services stay untouched.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  KAFKA_VERSION,
  type LocalKafkaLayout,
  defaultKafkaLayout,
  startKafka,
} from '../../infra/services/kafka';
import { ensurePostgres } from '../../infra/services/postgres';
import { stopProcess } from '../../infra/services/shell';

const root = path.resolve(__dirname, '..', '..');
let scratch: string;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function layout(overrides: Partial<LocalKafkaLayout> = {}): Promise<LocalKafkaLayout> {
  return {
    ...defaultKafkaLayout,
    brokerPort: await freePort(),
    controllerPort: await freePort(),
    dir: mkdtempSync(path.join(scratch, 'kafka-')),
    record: false,
    ...overrides,
  };
}

/** A PATH holding only the named programs (symlinked from the real PATH). */
function pathWith(...programs: string[]): string {
  const bin = mkdtempSync(path.join(scratch, 'bin-'));
  for (const program of programs) {
    const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
    symlinkSync(found.stdout.trim(), path.join(bin, program));
  }
  return bin;
}

async function withPath<T>(searchPath: string, work: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = searchPath;
  try {
    return await work();
  } finally {
    process.env.PATH = saved;
  }
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'escrow-broken-env-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('a port held by another program is named with that program and its pid', async () => {
  // Answers like a program that is not Kafka: a line of text, then it hangs up.
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined); // the probe's reset of this side is expected
    socket.end('not kafka\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    await expect(startKafka(await layout({ brokerPort: port }))).rejects.toThrow(
      new RegExp(
        `Port ${port} is taken by node \\(pid ${process.pid}\\), which is not a Kafka broker`,
      ),
    );
  } finally {
    server.close();
  }
});

test('without Java the broker is not attempted and the message says how to install it', async () => {
  await expect(withPath(pathWith(), async () => startKafka(await layout()))).rejects.toThrow(
    /Java is not installed.*apt-get install -y openjdk-17-jre-headless/,
  );
});

test('without Maven and without cached jars the message says Maven is needed', async () => {
  const missingJars = path.join(scratch, 'no-jars');
  await expect(
    withPath(pathWith('java', 'sh'), async () =>
      startKafka(await layout({ libsDir: missingJars })),
    ),
  ).rejects.toThrow(
    new RegExp(
      `Maven is not installed, and it fetches the Kafka ${KAFKA_VERSION.replaceAll('.', '\\.')} jars from Maven Central`,
    ),
  );
});

test("an unreachable Maven repository is reported as such, with Maven's own last lines", async () => {
  const settings = path.join(scratch, 'unreachable-settings.xml');
  writeFileSync(
    settings,
    '<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>' +
      '<url>http://127.0.0.1:9/maven2</url></mirror></mirrors></settings>',
  );
  const broken = await layout({
    libsDir: path.join(scratch, 'libs-unreachable'),
    mavenArgs: ['-s', settings, `-Dmaven.repo.local=${path.join(scratch, 'empty-m2')}`],
  });
  await expect(startKafka(broken)).rejects.toThrow(
    /Maven Central is unreachable from this machine[\s\S]*--- mvn output \(last lines\) ---/,
  );
}, 120_000);

test('a corrupt Kafka data folder is diagnosed and the fix is named', async () => {
  const broken = await layout();
  const dataDir = path.join(broken.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path.join(dataDir, 'meta.properties'), 'this is not what the broker wrote\n');
  await expect(startKafka(broken)).rejects.toThrow(
    /The Kafka broker exited while starting\. The Kafka data folder .* is stale or corrupt\. Fix: run `npm run services:down -- --wipe`/,
  );
}, 60_000);

test('a healthy layout on its own ports starts a real broker, which a second start leaves alone', async () => {
  const healthy = await layout();
  const pid = await startKafka(healthy);
  try {
    expect(pid).toEqual(expect.any(Number));
    await expect(startKafka(healthy)).resolves.toBeUndefined();
  } finally {
    await stopProcess(pid!, 30_000);
  }
}, 120_000);

test('Postgres down on a machine that cannot start it says what to do', async () => {
  const port = await freePort();
  await expect(withPath(pathWith('sh'), () => ensurePostgres(port))).rejects.toThrow(
    new RegExp(
      `Postgres is not running on 127\\.0\\.0\\.1:${port}, and this machine has no pg_ctlcluster`,
    ),
  );
});

test('migrate against a Postgres that is down names the cause and the fix', () => {
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/db/migrate-cli.ts'],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/escrow' },
      encoding: 'utf8',
    },
  );
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    'Postgres is not reachable: start it (`npm run services:up`) or fix DATABASE_URL.',
  );
  expect(result.stderr).not.toMatch(/^\s+at /m);
});

test('the worker refuses a wrong configuration with the variable, the value and what is allowed', () => {
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/main.ts'],
    { cwd: root, env: { ...process.env, OPS_PORT: 'eighty' }, encoding: 'utf8' },
  );
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    'OPS_PORT: given "eighty"; allowed: a TCP port number from 1 to 65535.',
  );
  expect(result.stderr).not.toMatch(/^\s+at /m);
});
