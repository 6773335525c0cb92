/**
 * Small process and network helpers for the local-services tooling. Every wait
 * here is bounded: a broken environment ends in a message, never a hang.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Raised for a broken environment; the CLI prints only its message. */
export class ServicesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServicesError';
  }
}

export function log(message: string): void {
  process.stderr.write(`[services] ${message}\n`);
}

/** Resolves true when something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Names the process listening on a port, when `ss` can tell. The name is the
 * program from its command line: `ss` reports the main thread's name, which a
 * program may change (Node 24 names its main thread "MainThread").
 */
export function listenerOf(port: number): string {
  const result = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(result.stdout ?? '');
  if (!match) return 'an unknown process';
  const pid = Number(match[2]);
  const program = commandLineOf(pid).split(' ')[0]?.split('/').pop();
  return `${program || match[1]} (pid ${pid})`;
}

export function commandExists(command: string): boolean {
  // env is passed explicitly so a caller's changes to process.env (a test's PATH) apply.
  const options = { encoding: 'utf8' as const, env: process.env };
  return spawnSync('sh', ['-c', `command -v ${command}`], options).status === 0;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command line of a live process, to make sure a pid was not reused. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or the deadline passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  onTimeout: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new ServicesError(
    `${what} did not become ready within ${timeoutMs / 1000}s. ${onTimeout()}`,
  );
}

/** Runs a command to completion with a time limit; resolves its exit code and output. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs: number },
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/** Stops a process: SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return;
    await sleep(200);
  }
  process.kill(pid, 'SIGKILL');
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
