/**
 * What the benches that measure one part of the worker alone share
 * (relay-ceiling.ts: the outbox relay; pipeline-cost.ts: the unit of work):
 * the command line's handling, the Postgres processes to account CPU to, a
 * full garbage collection before the clock starts, and a wait for a quiet
 * machine.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Knex } from 'knex';
import { type Owners, parentOf, waitForQuietMachine } from './cpu-usage';

/**
 * Runs a bench from its command line: flags parsed (a refusal or --help
 * prints the usage, exit 2 or 0), `main` run with a signal that Ctrl-C or
 * SIGTERM aborts (exit 130), its exit code, or 1 after printing a failure.
 */
export function runFromCommandLine<Options>(bench: {
  usage: string;
  /** The options, or a refusal to print before the usage ('' for --help). */
  parseOptions: (args: readonly string[]) => Options | string;
  main: (options: Options, signal: AbortSignal) => Promise<number>;
  /** Writes a line to stderr under the bench's name. */
  progress: (line: string) => void;
}): void {
  let parsed: Options | string;
  try {
    parsed = bench.parseOptions(process.argv.slice(2));
  } catch (error) {
    parsed = (error as Error).message;
  }
  if (typeof parsed === 'string') {
    if (parsed !== '') bench.progress(`${parsed}\n`);
    process.stderr.write(`${bench.usage}\n`);
    process.exit(parsed === '' ? 0 : 2);
  }
  const interrupt = new AbortController();
  process.on('SIGINT', () => interrupt.abort());
  process.on('SIGTERM', () => interrupt.abort());
  bench.main(parsed, interrupt.signal).then(
    (code) => process.exit(interrupt.signal.aborted ? 130 : code),
    (error: unknown) => {
      bench.progress(`failed: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}

/** The Postgres server's processes now (its backends and the postmaster), to account CPU to. */
export async function postgresOwners(db: Knex): Promise<Owners> {
  const { rows } = await db.raw<{ rows: { pid: number }[] }>('SELECT pid FROM pg_stat_activity');
  const backends = rows.map((row) => Number(row.pid));
  const postmaster = backends.length > 0 ? parentOf(backends[0]!) : null;
  const pids = postmaster === null ? backends : [...backends, postmaster];
  return { workerPids: new Set([process.pid]), postgresPids: new Set(pids), redisPort: 'none' };
}

/** A full garbage collection now, so that the set-up's garbage is not collected on the measured time. */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/**
 * Waits (up to two minutes) until the machine is at most 15 % busy: another
 * process's load (a test suite, a build) would be counted as the measured
 * part's slowness. Returns how busy it was (%), or null without /proc.
 */
export async function quietMachine(
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<number | null> {
  const settled = await waitForQuietMachine({
    maxBusy: 0.15,
    windowMs: 2000,
    timeoutMs: 120_000,
    signal,
  });
  const busy = settled.busy === null ? null : Math.round(100 * settled.busy);
  if (!settled.quiet) progress(`the machine stayed ${busy}% busy; measuring anyway`);
  return busy;
}
