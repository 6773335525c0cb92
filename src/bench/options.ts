/**
 * The benchmark's flags, parsed and checked before anything is created, so a
 * typo costs a second, not a database.
 */

export interface BenchOptions {
  readonly events: number;
  /** Unset: as many orders as the events need (about 9 events per order). */
  readonly orders: number | undefined;
  /** Events per second offered at a steady pace; unset: as fast as the broker takes them. */
  readonly rate: number | undefined;
  readonly seed: string;
  readonly keep: boolean;
  /** Only the JSON line on stdout (the summary is skipped). */
  readonly jsonOnly: boolean;
  /** Ledger entries written into the bench database before the run (0: none). */
  readonly preloadEntries: number;
  /** Worker processes in the one consumer group under test. */
  readonly instances: number;
}

/** Far more than a 2-core machine runs well: each instance is a whole worker with its own heap. */
export const maxInstances = 8;

/** Finishes in under 3 minutes on the 2-core reference machine with the worker as it was first measured. */
export const defaultEvents = 10_000;

export const usage = `Usage: npm run bench -- [options]

Generates a realistic mix of escrow events, produces it to Kafka, runs the worker as a
child process against a database and topic prefix of its own, and measures throughput,
end-to-end latency (produce -> outcome published), the worker's peak RSS, and the Kafka and
database floors of this machine. The last line of stdout is one JSON object.

  --events N            inbound events in total, retried callbacks included (default ${defaultEvents})
  --orders N            orders they belong to (default: about one per 9 events)
  --rate N              offer N events/s at a steady pace (default: as fast as the broker takes them)
  --seed S              seed of the generator; the same seed gives the same events (default 1)
  --preload-entries N   write N ledger entries of past orders before the run (e.g. 5000000)
  --instances N         run N workers in one consumer group, measured together (1 to ${maxInstances}, default 1)
  --keep                keep the database, topics and schema subjects afterwards
  --json-only           print only the JSON line on stdout
  --help                this text`;

export class UsageError extends Error {
  readonly code = 'BENCH_USAGE';
  readonly retryable = false;
}

const positive = (flag: string, raw: string | undefined, max: number): number => {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(
      `${flag} takes a whole number from 1 to ${max}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}; e.g. ${flag} 1000`,
    );
  }
  return Number(raw);
};

/** Parses argv (after the script); throws a UsageError naming the flag and the fix. */
export function parseOptions(args: readonly string[]): BenchOptions | 'help' {
  const options = {
    events: defaultEvents,
    orders: undefined as number | undefined,
    rate: undefined as number | undefined,
    seed: '1',
    keep: false,
    jsonOnly: false,
    preloadEntries: 0,
    instances: 1,
  };
  for (let index = 0; index < args.length; index++) {
    const [flag, inline] = args[index]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const takeValue = () => inline ?? args[++index];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--events':
        options.events = positive(flag, takeValue(), 10_000_000);
        break;
      case '--orders':
        options.orders = positive(flag, takeValue(), 10_000_000);
        break;
      case '--rate':
        options.rate = positive(flag, takeValue(), 1_000_000);
        break;
      case '--preload-entries':
        options.preloadEntries = positive(flag, takeValue(), 100_000_000);
        break;
      case '--instances':
        options.instances = positive(flag, takeValue(), maxInstances);
        break;
      case '--seed': {
        const seed = takeValue();
        if (seed === undefined || seed === '') {
          throw new UsageError('--seed takes a value, e.g. --seed 42');
        }
        options.seed = seed;
        break;
      }
      case '--keep':
        options.keep = true;
        break;
      case '--json-only':
        options.jsonOnly = true;
        break;
      default:
        throw new UsageError(`unknown option ${JSON.stringify(args[index])}; see --help`);
    }
  }
  if (options.events < 10) {
    throw new UsageError(`--events ${options.events} is too few to measure; use at least 10`);
  }
  return options;
}
