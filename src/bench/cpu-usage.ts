/**
 * Where the machine's CPU went during a phase, per component: the worker
 * processes, the bench itself, the Postgres server of the bench database
 * (every backend), the Kafka broker, the schema registry, Redis, and
 * everything else (`other`: anything else running on the machine, which
 * makes the figures of that run suspect). Read from /proc (utime +
 * stime per process, and the machine's busy time from /proc/stat) at the
 * start and end of the phase; on a system without /proc it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export type Component = 'worker' | 'bench' | 'postgres' | 'kafka' | 'registry' | 'redis';

interface Snapshot {
  readonly at: number;
  readonly machineBusyTicks: number;
  readonly byPid: ReadonlyMap<number, { component: Component; ticks: number }>;
}

export interface CpuUsage {
  readonly seconds: number;
  readonly cores: number;
  /** CPU seconds per component; `other` is the machine's busy time no component accounts for. */
  readonly cpuSeconds: Readonly<Record<Component | 'other', number>>;
}

/** Clock ticks per second: 100 on every Linux this runs on (getconf CLK_TCK). */
const ticksPerSecond = 100;

const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** Which processes are whose: other Postgres or Redis servers on the machine (a test suite's) are `other`. */
export interface Owners {
  /** Every worker process of the run: their CPU is summed under `worker`. */
  readonly workerPids: ReadonlySet<number>;
  /** The bench server's processes (pg_stat_activity's pids and the postmaster). */
  readonly postgresPids: ReadonlySet<number>;
  /** The port of the Redis the worker locks on, as its command line shows it. */
  readonly redisPort: string;
}

function componentOf(pid: number, comm: string, owners: Owners): Component | null {
  if (owners.workerPids.has(pid)) return 'worker';
  if (pid === process.pid) return 'bench';
  if (comm === 'postgres') return owners.postgresPids.has(pid) ? 'postgres' : null;
  if (comm === 'redis-server') {
    return (read(`/proc/${pid}/cmdline`) ?? '').includes(`:${owners.redisPort}`) ? 'redis' : null;
  }
  if (comm === 'java') {
    const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
    if (cmdline.includes('kafka.Kafka')) return 'kafka';
    if (cmdline.includes('registry')) return 'registry';
  }
  return null;
}

/** The parent of a process, from /proc (null where /proc is missing). */
export function parentOf(pid: number): number | null {
  const text = read(`/proc/${pid}/stat`);
  if (text === null) return null;
  // After "pid (comm) state" comes the parent's pid.
  const parent = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isFinite(parent) ? parent : null;
}

/** The whole machine's clock ticks since boot, all and busy (null where /proc is missing). */
function machineTicks(): { total: number; busy: number } | null {
  const stat = read('/proc/stat');
  if (stat === null) return null;
  // cpu user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const fields = (stat.split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { total, busy: total - (fields[3] ?? 0) - (fields[4] ?? 0) };
}

export function cpuSnapshot(owners: Owners): Snapshot | null {
  const machine = machineTicks();
  if (machine === null) return null;
  const byPid = new Map<number, { component: Component; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = read(`/proc/${entry}/stat`);
    if (text === null) continue;
    // The command name is in parentheses and may itself contain spaces or ")".
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const rest = text.slice(close + 2).split(' ');
    const component = componentOf(Number(entry), comm, owners);
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the state field.
    if (component)
      byPid.set(Number(entry), { component, ticks: Number(rest[11]) + Number(rest[12]) });
  }
  return { at: Date.now(), machineBusyTicks: machine.busy, byPid };
}

export function cpuUsageBetween(start: Snapshot | null, end: Snapshot | null): CpuUsage | null {
  if (!start || !end) return null;
  const cpuSeconds: Record<Component | 'other', number> = {
    worker: 0,
    bench: 0,
    postgres: 0,
    kafka: 0,
    registry: 0,
    redis: 0,
    other: 0,
  };
  let accounted = 0;
  for (const [pid, now] of end.byPid) {
    const ticks = now.ticks - (start.byPid.get(pid)?.ticks ?? 0);
    cpuSeconds[now.component] += ticks / ticksPerSecond;
    accounted += ticks;
  }
  // Processes that ended during the phase (a Postgres backend) land in `other`.
  cpuSeconds.other = Math.max(
    0,
    (end.machineBusyTicks - start.machineBusyTicks - accounted) / ticksPerSecond,
  );
  return { seconds: (end.at - start.at) / 1000, cores: cpus().length, cpuSeconds };
}

/** The share of the whole machine busy over the next `windowMs` (null where /proc is missing). */
export async function machineBusyShare(windowMs: number): Promise<number | null> {
  const start = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const end = machineTicks();
  if (!start || !end || end.total === start.total) return null;
  return (end.busy - start.busy) / (end.total - start.total);
}

/**
 * Waits until the machine has been quiet (at most `maxBusy` of it busy) over
 * a window of `windowMs`, or `timeoutMs` have passed; says how long it waited
 * and how busy the last window was.
 */
export async function waitForQuietMachine(options: {
  maxBusy: number;
  windowMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<{ waitedMs: number; busy: number | null; quiet: boolean }> {
  const started = Date.now();
  for (;;) {
    const busy = await machineBusyShare(options.windowMs);
    const waitedMs = Date.now() - started;
    if (busy === null || busy <= options.maxBusy) return { waitedMs, busy, quiet: true };
    if (options.signal.aborted || waitedMs >= options.timeoutMs)
      return { waitedMs, busy, quiet: false };
  }
}
