/**
 * A throwaway Postgres cluster as production runs one: TLS on (a server
 * certificate signed by a CA made here), SCRAM-SHA-256 passwords, and
 * pg_hba.conf admitting TCP clients only over TLS with a password. Two login
 * roles with random passwords: the owner of the `escrow` database (who
 * migrates) and the worker. initdb into a temporary folder, a port of its
 * own; stop() stops it and removes the folder. Only the bootstrap superuser
 * connects without a password, over the folder's Unix socket.
 *
 * Postgres refuses to run as root, so as root every command runs as the
 * `postgres` system user (runuser) and the folder is handed to that user.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { commandExists, run, tail } from '../../infra/services/shell';
import { makeTestCertificates, type TestCertificates } from './certificates';

const binaries = '/usr/lib/postgresql/15/bin';

export interface ScratchRole {
  name: string;
  password: string;
}

export interface UrlOptions {
  /** The CA file sslrootcert names; the cluster's CA by default, null for none. */
  caFile?: string | null;
  /** sslmode; verify-full by default, null to leave it out (a plaintext client). */
  sslmode?: string | null;
  password?: string;
}

export interface ScratchPostgresTls {
  readonly port: number;
  readonly database: string;
  readonly certificates: TestCertificates;
  readonly owner: ScratchRole;
  readonly worker: ScratchRole;
  /** A DATABASE_URL for the role, over verify-full TLS trusting the cluster's CA unless told otherwise. */
  url(role: ScratchRole, options?: UrlOptions): string;
  /** Runs work as the bootstrap superuser (over the Unix socket) on a database of the cluster. */
  asSuperuser<T>(database: string, work: (client: Client) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

const runsAsRoot = () => os.userInfo().uid === 0;

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [user, group] = [id('-u'), id('-g')];
  if (user.status !== 0 || group.status !== 0)
    throw new Error('Running as root, the scratch Postgres needs the `postgres` system user.');
  return { uid: Number(user.stdout.trim()), gid: Number(group.stdout.trim()) };
}

/** A free port below Linux's ephemeral range (see ops-port.ts for why). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function pgCommand(dir: string, binary: string, args: string[]): Promise<void> {
  const command = path.join(binaries, binary);
  const [program, programArgs] = runsAsRoot()
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, args];
  const result = await run(program, programArgs, { cwd: dir, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new Error(
      `${binary} failed for the scratch TLS Postgres in ${dir}:\n${tail(result.output, 15)}`,
    );
}

export async function startScratchPostgresTls(): Promise<ScratchPostgresTls> {
  if (!commandExists(`${binaries}/initdb`) || !commandExists('openssl'))
    throw new Error(`The TLS Postgres tests need ${binaries}/initdb (postgresql-15) and openssl.`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escrow-pg-tls-'));
  const dataDir = path.join(dir, 'data');
  const certsDir = path.join(dir, 'certs');
  mkdirSync(certsDir);
  const certificates = await makeTestCertificates(certsDir);
  if (runsAsRoot()) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    // The server reads its key only if it owns it (mode 0600, as openssl writes it).
    chownSync(certificates.serverKeyFile, uid, gid);
  }
  const port = await freePort();
  const database = 'escrow';
  const secret = () => randomBytes(12).toString('hex');
  const owner = { name: 'escrow_owner', password: secret() };
  const worker = { name: 'escrow_worker', password: secret() };

  await pgCommand(dir, 'initdb', [
    ...['-D', dataDir, '-U', 'postgres', '--no-sync', '--encoding=UTF8', '--locale=C.UTF-8'],
    ...['--auth-local=trust', '--auth-host=reject'],
  ]);
  writeFileSync(
    path.join(dataDir, 'pg_hba.conf'),
    [
      'local   all  postgres                trust',
      'hostssl all  all       127.0.0.1/32  scram-sha-256',
      '',
    ].join('\n'),
  );
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c ssl=on',
    `-c ssl_cert_file=${certificates.serverCertFile}`,
    `-c ssl_key_file=${certificates.serverKeyFile}`,
    '-c password_encryption=scram-sha-256',
  ].join(' ');
  const logFile = path.join(dir, 'postgres.log');
  await pgCommand(dir, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', options, '-w', 'start']);

  const asSuperuser = async <T>(name: string, work: (client: Client) => Promise<T>) => {
    const client = new Client({ host: dir, port, user: 'postgres', database: name });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  // The passwords are hex: safe as literals (CREATE ROLE takes no parameters).
  await asSuperuser('postgres', async (client) => {
    await client.query(`CREATE ROLE ${owner.name} LOGIN PASSWORD '${owner.password}'`);
    await client.query(`CREATE ROLE ${worker.name} LOGIN PASSWORD '${worker.password}'`);
    await client.query(`CREATE DATABASE ${database} OWNER ${owner.name}`);
  });

  return {
    port,
    database,
    certificates,
    owner,
    worker,
    url(role, urlOptions = {}) {
      const caFile = urlOptions.caFile === undefined ? certificates.caFile : urlOptions.caFile;
      const sslmode = urlOptions.sslmode === undefined ? 'verify-full' : urlOptions.sslmode;
      const query = new URLSearchParams();
      if (sslmode !== null) query.set('sslmode', sslmode);
      if (caFile !== null) query.set('sslrootcert', caFile);
      const password = encodeURIComponent(urlOptions.password ?? role.password);
      const search = query.size > 0 ? `?${query.toString()}` : '';
      return `postgres://${role.name}:${password}@127.0.0.1:${port}/${database}${search}`;
    },
    asSuperuser,
    async stop() {
      await pgCommand(dir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(
        () => undefined,
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
