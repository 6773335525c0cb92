/**
 * The worker processes under test: real `npm start` workers (spawnWorker), two
 * in one consumer group so kills and restarts also make the group rebalance.
 * The fleet remembers every process it started and how each one ended, so the
 * suite can tell the SIGKILLs it sent from a crash: any exit it did not cause
 * is a discrepancy, with the tail of that worker's log as evidence. Each
 * worker's log is also kept in a file of the run folder.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

interface Life {
  slot: number;
  generation: number;
  process: WorkerProcess;
  /** Why it ended, when the suite ended it. */
  endedBy?: 'SIGKILL' | 'SIGTERM';
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  log: WriteStream;
}

export class WorkerFleet {
  private readonly lives: Life[] = [];
  private readonly current = new Map<number, Life>();
  kills = 0;
  restarts = 0;

  constructor(
    private readonly config: (slot: number) => Config,
    private readonly logDir: string,
    /** Log files are named <name>-<slot>-<generation>.log in logDir. */
    private readonly name = 'worker',
  ) {}

  start(slot: number): void {
    if (this.current.has(slot)) throw new Error(`worker slot ${slot} is already running`);
    const generation = this.lives.filter((life) => life.slot === slot).length + 1;
    if (generation > 1) this.restarts++;
    const log = createWriteStream(path.join(this.logDir, `${this.name}-${slot}-${generation}.log`));
    const process = spawnWorker(this.config(slot), { LOG_LEVEL: 'info' });
    process.child.stdout?.pipe(log, { end: false });
    process.child.stderr?.pipe(log, { end: false });
    const life: Life = { slot, generation, process, log };
    this.lives.push(life);
    this.current.set(slot, life);
    void process.exited.then((exit) => {
      life.exit = exit;
      log.end();
      if (this.current.get(slot) === life) this.current.delete(slot);
    });
  }

  get slots(): number[] {
    return [...this.current.keys()];
  }

  /** SIGKILL: no shutdown hook runs, in-flight work and uncommitted offsets are lost. */
  async kill(slot: number): Promise<void> {
    const life = this.current.get(slot);
    if (!life) return;
    life.endedBy = 'SIGKILL';
    this.kills++;
    life.process.child.kill('SIGKILL');
    await life.process.exited;
  }

  /** SIGTERM: the worker finishes the message in hand, commits and leaves the group. */
  async stop(slot: number, timeoutMs = 60_000): Promise<void> {
    const life = this.current.get(slot);
    if (!life) return;
    life.endedBy = 'SIGTERM';
    life.process.child.kill('SIGTERM');
    const stopped = await Promise.race([
      life.process.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
    ]);
    if (!stopped) {
      // Recorded as a discrepancy by exitProblems(): SIGTERM must end a worker.
      life.process.child.kill('SIGKILL');
      await life.process.exited;
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.stop(slot)));
  }

  /**
   * Starts again every slot whose worker ended without being told to. The
   * exit stays recorded as a discrepancy; restarting lets the run go on and
   * show what else is wrong.
   */
  reviveCrashed(): void {
    for (const slot of new Set(this.lives.map((life) => life.slot))) {
      const last = this.lives.filter((life) => life.slot === slot).at(-1);
      if (last?.exit && last.endedBy === undefined && !this.current.has(slot)) this.start(slot);
    }
  }

  /** Every exit the suite did not cause, and every stop that did not end cleanly. */
  exitProblems(): string[] {
    const problems: string[] = [];
    for (const life of this.lives) {
      const { exit } = life;
      if (!exit) continue;
      const name = `worker ${life.slot}.${life.generation} (pid ${String(life.process.child.pid)})`;
      if (life.endedBy === 'SIGKILL' && exit.signal === 'SIGKILL') continue;
      // A worker told to stop while still starting (its handlers not yet installed)
      // ends by the signal itself: nothing was in flight yet, so that is a clean stop too.
      if (life.endedBy === 'SIGTERM' && (exit.code === 0 || exit.signal === 'SIGTERM')) continue;
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
      const expected = life.endedBy ? `after the suite's ${life.endedBy}` : 'without being told to';
      problems.push(
        `${name} ended with ${how} ${expected}; last log lines:\n${tail(life.process.output(), 15)}`,
      );
    }
    return problems;
  }

  /** The logs of every worker the fleet ran, concatenated. */
  allOutput(): string {
    return this.lives.map((life) => life.process.output()).join('\n');
  }
}

const tail = (text: string, lines: number) =>
  text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .slice(-lines)
    .map((line) => `    ${line.slice(0, 600)}`)
    .join('\n');
