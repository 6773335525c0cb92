/**
 * The worker under test, as a separate process (`node <flags>
 * dist/src/main.js`, exactly what `npm start` and the image run; the bench
 * builds it first when it is stale), so its memory is its own: the peak
 * resident set is sampled from /proc every 200 ms, and the kernel's own
 * high-water mark (VmHWM) is read too. Its log goes to a file, shown when a
 * run fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { type Config, configEnvironment } from '../config';
import { compiledEntry, root } from './compiled-worker';

/** The environment a worker reads (CONTRACT.md, Configuration), from a parsed configuration. */
export function workerEnvironment(config: Config, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, ...configEnvironment(config) };
}

/** VmRSS and VmHWM of a process in bytes, or null where /proc does not exist. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
  } catch {
    return null;
  }
}

/**
 * The node flags the worker runs with in production (package.json's start
 * and start:dev scripts and the Dockerfile's CMD; test/unit/bench/worker-flags.test.ts
 * keeps them in step), so the benchmark measures the worker as deployed. The
 * heap limit: without it V8 grows the old space far past the live set under
 * a burst (peak RSS 360-420 MB on 30,000 events, against about 240 MB with it).
 * The semi-space limit: Node 24's V8 sizes the young generation from the heap
 * limit, up to 64 MB per semi-space (heap_size_limit 448 MB with the flag
 * above, against Node 20's 16 MB and 304 MB); at 64 MB the worker peaked at
 * 311-333 MB, at 16 MB at 226 MB for the same CPU (docs/benchmark.md).
 * The initial old space: V8 starts the old generation with a small limit and
 * runs full mark-compacts while a burst grows it to the worker's working set
 * (40-70 MB); starting at 64 MB skips those, 0.163 against 0.189 ms of worker
 * CPU per event on 30,000 events (medians of 6 alternated pairs), peak RSS
 * unchanged (194-217 MB).
 * The heap growing factor: after each full collection V8 sets the next old
 * space limit at a factor of the live set that it picks from its own speed
 * figures, and for this worker it picked small ones: about 26 full
 * collections (and their concurrent marking, which runs on other threads
 * and counts in the process's CPU) per 30,000 events. A fixed factor of 2
 * leaves 8: 0.145-0.166 against 0.180-0.193 ms of worker CPU per event on
 * 30,000 events (alternated runs, the same hour), peak RSS 215-249 against
 * 190-198 MB. A factor of 3 or 4 saved a little more CPU for 263-270 MB,
 * too close to the 300 MB target; a larger young generation with it saved
 * nothing (docs/benchmark.md). It is a V8 flag: a Node release whose V8
 * drops it refuses to start ("bad option"), which worker-flags.test.ts
 * checks on the Node it runs on; on a Node upgrade, measure it again.
 * The warning filter: KafkaJS 2.2.4's request queue schedules its idle check
 * with a negative delay, which Node (as always) runs after 1 ms but, since
 * Node 24, also reports with a TimeoutNegativeWarning line on stderr in every
 * process that connects (kafkajs issue #1751, unfixed in its last release).
 * Only that warning type is silenced; every other warning still prints.
 */
export const workerNodeFlags = [
  '--max-old-space-size=256',
  '--initial-old-space-size=64',
  '--heap-growing-percent=100',
  '--max-semi-space-size=16',
  '--disable-warning=TimeoutNegativeWarning',
] as const;

export class WorkerProcess {
  private peak = 0;
  private sampler: NodeJS.Timeout | undefined;
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly config: Config,
    readonly logPath: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve(this.exitCode);
      }),
    );
    this.sample();
    this.sampler = setInterval(() => this.sample(), 200);
  }

  static start(config: Config, baseEnv: NodeJS.ProcessEnv, logPath: string): WorkerProcess {
    const log = openSync(logPath, 'a');
    try {
      // BENCH_WORKER_NODE_ARGS adds node flags NODE_OPTIONS refuses, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
      const nodeArgs = (baseEnv.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const child = spawn(process.execPath, [...workerNodeFlags, ...nodeArgs, compiledEntry], {
        cwd: root,
        env: workerEnvironment(config, baseEnv),
        stdio: ['ignore', log, log],
      });
      return new WorkerProcess(child, config, logPath);
    } finally {
      closeSync(log); // the child holds its own descriptor
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The highest resident set seen, in bytes (0 where /proc is missing). */
  get peakRssBytes(): number {
    this.sample();
    return this.peak;
  }

  private sample(): void {
    if (!this.running) return;
    const memory = memoryOf(this.pid);
    if (memory) this.peak = Math.max(this.peak, memory.rss, memory.hwm);
  }

  private url(route: string): string {
    return `http://127.0.0.1:${this.config.OPS_PORT}${route}`;
  }

  /** Until /readyz answers 200 (Kafka, registry, Postgres and Redis reachable from the worker). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        throw new Error(
          `the worker exited with code ${this.exitCode} while starting; see ${this.logPath}`,
        );
      }
      const status = await fetch(this.url('/readyz'), { signal: AbortSignal.timeout(2000) }).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the worker was not ready within ${timeoutMs / 1000} s (GET /readyz answered ${status || 'nothing'}); see ${this.logPath}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The worker's Prometheus text, or null when it does not answer. */
  async metrics(): Promise<string | null> {
    try {
      const response = await fetch(this.url('/metrics'), { signal: AbortSignal.timeout(5000) });
      return response.ok ? await response.text() : null;
    } catch {
      return null;
    }
  }

  /** SIGTERM (finish the message in hand, commit, close), SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    clearInterval(this.sampler);
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
