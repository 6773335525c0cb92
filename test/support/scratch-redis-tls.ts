/**
 * Redis servers of a test's own that speak TLS only (`--port 0 --tls-port`)
 * and require a password, with an ACL user beside the default one. A CA and a
 * server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1, no name) are
 * made with openssl into a temporary folder, with a second CA that signs
 * nothing, for the untrusted-certificate case. stop() ends the servers and
 * removes the folder. The machine's Redis on 6379 is never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestCertificates } from './certificates';
import { commandExists, portOpen, run, sleep } from '../../infra/services/shell';

export interface ScratchRedisTls {
  /** The TLS port of each server. */
  readonly ports: readonly number[];
  /** The default user's password (`requirepass`). */
  readonly password: string;
  /** An ACL user of every server, with its own password and every command. */
  readonly aclUser: { readonly name: string; readonly password: string };
  /** The CA that signs the servers' certificate. */
  readonly caFile: string;
  /** A CA that signs nothing the servers present. */
  readonly otherCaFile: string;
  /** The URL of every server, with `credentials@` unless they are empty (`:password`, `user:password`). */
  urls(credentials: string, scheme?: 'rediss' | 'redis'): string[];
  /** SIGKILLs one server, as a crashed node. */
  kill(index: number): Promise<void>;
  stop(): Promise<void>;
}

/** redis-server and openssl from Debian's packages when the machine lacks them and may install. */
async function ensureInstalled(): Promise<void> {
  const missing = ['redis-server', 'openssl'].filter((command) => !commandExists(command));
  if (missing.length === 0) return;
  const instructions = 'install them (Debian: apt-get install -y redis-server openssl)';
  if (process.getuid?.() !== 0 || !commandExists('apt-get'))
    throw new Error(`The Redis TLS tests need ${missing.join(' and ')}: ${instructions}.`);
  const packages = missing.map((command) => (command === 'openssl' ? 'openssl' : 'redis-server'));
  for (const args of [['update'], ['install', '-y', ...packages]]) {
    const result = await run('apt-get', args, { timeoutMs: 300_000 });
    if (result.code !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed; ${instructions}:\n${result.output}`);
  }
}

/** A port below Linux's ephemeral range, where no outgoing connection takes it (see ops-port.ts). */
const randomPort = () => 20_000 + Math.floor(Math.random() * 12_000);

interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

async function startServer(folder: string, password: string, aclUser: ScratchRedisTls['aclUser']) {
  for (let attempt = 1; ; attempt += 1) {
    const port = randomPort();
    if (await portOpen(port)) continue;
    const file = (name: string) => path.join(folder, name);
    // No persistence: nothing it holds is meant to outlive the test.
    // prettier-ignore
    const args = [
      '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
      '--tls-cert-file', file('server.pem'), '--tls-key-file', file('server.key'),
      '--tls-ca-cert-file', file('ca.pem'), '--tls-auth-clients', 'no',
      '--requirepass', password, '--user', aclUser.name, 'on', `>${aclUser.password}`, '~*', '&*', '+@all',
      '--save', '', '--appendonly', 'no', '--dir', folder,
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null || Date.now() > deadline) break;
      await sleep(50);
    }
    if (child.exitCode === null && (await portOpen(port))) return { port, child, exited };
    child.kill('SIGKILL');
    await exited;
    // A port taken between the look and the bind: try another; anything else is reported.
    if (attempt >= 3 || !output.includes('Address already in use'))
      throw new Error(
        `The test's TLS redis-server on port ${port} did not start; its output:\n${output}`,
      );
  }
}

async function stopServer(server: Server, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  const killLater = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await server.exited;
  clearTimeout(killLater);
}

export async function startScratchRedisTls(count = 1): Promise<ScratchRedisTls> {
  await ensureInstalled();
  const folder = mkdtempSync(path.join(tmpdir(), 'escrow-redis-tls-'));
  const password = `redis-pw-${randomBytes(12).toString('hex')}`;
  const aclUser = { name: 'escrow-worker', password: `acl-pw-${randomBytes(12).toString('hex')}` };
  const servers: Server[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => stopServer(server, 'SIGTERM')));
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    // For 127.0.0.1 only, no name: a client connecting as localhost must refuse it.
    await makeTestCertificates(folder, 'IP:127.0.0.1');
    for (let index = 0; index < count; index += 1)
      servers.push(await startServer(folder, password, aclUser));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports: servers.map((server) => server.port),
    password,
    aclUser,
    caFile: path.join(folder, 'ca.pem'),
    otherCaFile: path.join(folder, 'other-ca.pem'),
    urls: (credentials, scheme = 'rediss') =>
      servers.map(
        (server) =>
          `${scheme}://${credentials === '' ? '' : `${credentials}@`}127.0.0.1:${server.port}`,
      ),
    kill: (index) => stopServer(servers[index]!, 'SIGKILL'),
    stop,
  };
}
