/**
 * The workers under test (`--instances N`): N worker processes in one
 * consumer group, on one database and topic prefix, each with an operations
 * port and a log of its own, started together and measured together. What a
 * run reads of them is the group's: ready when every one is, running while
 * every one is, their /metrics texts read as one (every figure the bench
 * takes from them is a counter or a histogram, which add up across
 * processes), each one's peak resident set kept apart.
 */
import type { BenchWorker } from './environment';
import { WorkerProcess } from './worker-process';

export class WorkerGroup {
  private constructor(readonly instances: readonly WorkerProcess[]) {}

  static start(workers: readonly BenchWorker[], baseEnv: NodeJS.ProcessEnv): WorkerGroup {
    const started: WorkerProcess[] = [];
    try {
      for (const worker of workers) {
        started.push(WorkerProcess.start(worker.config, baseEnv, worker.log));
      }
    } catch (error) {
      for (const instance of started) void instance.stop();
      throw error;
    }
    return new WorkerGroup(started);
  }

  get pids(): number[] {
    return this.instances.map((instance) => instance.pid);
  }

  /** True while every instance runs: one that exits leaves the group a different run. */
  get running(): boolean {
    return this.instances.every((instance) => instance.running);
  }

  /** Where to look when the group fails: the log of an instance that exited, else every log. */
  get logPath(): string {
    const exited = this.instances.find((instance) => !instance.running);
    return exited?.logPath ?? this.instances.map((instance) => instance.logPath).join(', ');
  }

  /** Each instance's highest resident set, in bytes, in instance order. */
  get peakRssBytesByInstance(): number[] {
    return this.instances.map((instance) => instance.peakRssBytes);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    await Promise.all(this.instances.map((instance) => instance.waitReady(timeoutMs)));
  }

  /**
   * Every instance's Prometheus text, one after the other: summing a metric
   * over its samples (worker-metrics.ts) then sums it over the instances.
   * Null when any instance does not answer, since a partial sum would pass
   * for the group's.
   */
  async metrics(): Promise<string | null> {
    const texts = await Promise.all(this.instances.map((instance) => instance.metrics()));
    return texts.every((text) => text !== null) ? texts.join('\n') : null;
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((instance) => instance.stop()));
  }
}
