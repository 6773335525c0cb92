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
  /** Set when it outlived the suite's SIGTERM by the stop timeout and the suite sent SIGKILL. */
  killedAfterStopTimeout?: boolean;
  /** FAULT_CRASH_AFTER_COMMIT: the eventId after whose database commit it kills itself. */
  armedWith?: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  log: WriteStream;
}

export class WorkerFleet {
  private readonly lives: Life[] = [];
  private readonly current = new Map<number, Life>();
  restarts = 0;
  private armed: string | undefined;
  private closed = false;
  /** While the suite stops every worker on purpose (to rewind), none is revived. */
  revivalHeld = false;

  constructor(
    private readonly config: (slot: number) => Config,
    private readonly logDir: string,
    /** Log files are named <name>-<slot>-<generation>.log in logDir. */
    private readonly name = 'worker',
  ) {}

  /**
   * From now on every worker starts armed (FAULT_CRASH_AFTER_COMMIT) with this
   * event: it SIGKILLs itself right after the event's database commit, before
   * the offset commit, the one moment a random kill may miss. Arming stays
   * until one worker has done so, since the suite may kill armed workers
   * before the event arrives.
   */
  arm(eventId: string): void {
    this.armed = eventId;
  }

  start(slot: number): void {
    // After close(), faults or revivals still in flight start nothing new.
    if (this.closed) return;
    const armedWith = this.armed;
    if (this.current.has(slot)) throw new Error(`worker slot ${slot} is already running`);
    const generation = this.lives.filter((life) => life.slot === slot).length + 1;
    if (generation > 1) this.restarts++;
    const log = createWriteStream(path.join(this.logDir, `${this.name}-${slot}-${generation}.log`));
    const config = this.config(slot);
    const process = spawnWorker(config, {
      LOG_LEVEL: 'info',
      // The scenarios' fees are computed at this rate, whatever the caller's environment says.
      PLATFORM_FEE_RATE: config.PLATFORM_FEE_RATE,
      ...(armedWith ? { FAULT_CRASH_AFTER_COMMIT: armedWith } : {}),
    });
    process.child.stdout?.pipe(log, { end: false });
    process.child.stderr?.pipe(log, { end: false });
    const life: Life = { slot, generation, process, log, armedWith };
    this.lives.push(life);
    this.current.set(slot, life);
    void process.exited.then((exit) => {
      life.exit = exit;
      log.end();
      if (this.killedItself(life)) this.armed = undefined;
      if (this.current.get(slot) === life) this.current.delete(slot);
    });
  }

  get slots(): number[] {
    return [...this.current.keys()];
  }

  /** SIGKILL: no shutdown hook runs, in-flight work and uncommitted offsets are lost. */
  /** False when the slot had no running worker (it may have just killed itself). */
  async kill(slot: number): Promise<boolean> {
    const life = this.current.get(slot);
    if (!life) return false;
    life.endedBy = 'SIGKILL';
    life.process.child.kill('SIGKILL');
    await life.process.exited;
    return true;
  }

  running(slot: number): boolean {
    return this.current.has(slot);
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
      life.killedAfterStopTimeout = true;
      life.process.child.kill('SIGKILL');
      await life.process.exited;
    }
  }

  /** Stops every worker for good: the run is over, or interrupted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopAll();
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
    if (this.revivalHeld) return;
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
      if (this.killedItself(life)) continue;
      // A worker told to stop while still starting (its handlers not yet installed)
      // ends by the signal itself: nothing was in flight yet, so that is a clean stop too.
      if (life.endedBy === 'SIGTERM' && (exit.code === 0 || exit.signal === 'SIGTERM')) continue;
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
      const expected = life.killedAfterStopTimeout
        ? "because it was still running a minute after the suite's SIGTERM"
        : life.endedBy
          ? `after the suite's ${life.endedBy}`
          : 'without being told to';
      problems.push(
        `${name} ended with ${how} ${expected}; last log lines:\n${tail(life.process.output(), 15)}`,
      );
    }
    return problems;
  }

  /** Armed workers that died by their own SIGKILL right after committing the armed event. */
  get selfKills(): number {
    return this.lives.filter((life) => this.killedItself(life)).length;
  }

  private killedItself(life: Life): boolean {
    const { exit, armedWith } = life;
    // Nothing else sends an armed worker SIGKILL unasked (the kernel's OOM killer would, but
    // then its memory, not this suite, is what to look at). A SIGTERM does not rule it
    // out: a stopping worker finishes the slice in hand, which may hold the armed event.
    return Boolean(
      exit &&
      armedWith &&
      exit.signal === 'SIGKILL' &&
      life.endedBy !== 'SIGKILL' &&
      !life.killedAfterStopTimeout,
    );
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
