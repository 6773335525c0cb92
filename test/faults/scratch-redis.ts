/**
 * A redis-server of the suite's own, on a port of its own, run as a child
 * process so it can be stopped and started at will. The machine's Redis on
 * 6379 has other users (the integration tests, other sessions); stopping it
 * would break them, stopping this one breaks nobody.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { commandExists, portOpen, sleep } from '../../infra/services/shell';

export class ScratchRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private closed = false;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.closed) return; // a fault still in flight when the run ended
    if (!commandExists('redis-server')) {
      throw new Error(
        'The fault suite needs redis-server to run a Redis it can stop and start; ' +
          'install Redis 7 (Debian: apt-get install -y redis-server).',
      );
    }
    // No persistence: the locks it holds are meant to vanish when it stops.
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    child.stdout?.on(
      'data',
      (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)),
    );
    child.stderr?.on(
      'data',
      (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000)),
    );
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (!(await portOpen(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(
          `The suite's redis-server on port ${this.port} did not start within 15 s; its output:\n${this.output}`,
        );
      }
      await sleep(100);
    }
  }

  /** SIGKILL, as a crashed or unplugged Redis: clients see connections reset, then refused. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** Stops it for good: a fault still in flight cannot start it again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }
}
