/**
 * The suite's command line. Two sizes: the full run (several thousand events,
 * several of every fault, every bad-message kind three times; a few minutes)
 * and `--short` for CI (about a thousand events, two kills, one restart of
 * Redis and of Postgres, one rewind, every bad-message kind once; under two
 * minutes). `--seed` repeats a run exactly, as far as the workload and the
 * fault plan go; the machine's timing still varies.
 */
import type { FaultKind } from './chaos';
import { newSeed } from './random';

export interface SuiteOptions {
  short: boolean;
  seed: number;
  events: number;
  /** Orders in flight at once. */
  window: number;
  faults: Record<FaultKind, number>;
  /** How many of each bad-message kind. */
  badRepeat: number;
  workers: number;
  keep: boolean;
  /** Bounds on the waits: a stalled stream, the drain, and the whole run. */
  stallMs: number;
  drainMs: number;
  overallMs: number;
}

export const usage = `Usage: npm run test:faults [-- --short] [-- --seed N] [-- --events N] [-- --keep]

Streams a realistic escrow workload through two real worker processes while it
kills them (SIGKILL), restarts Redis and Postgres, rewinds the consumer offsets
and injects malformed and adversarial messages, while it settles every payout
and refund the workers ask for and charges payments back; then checks that
nothing was lost, nothing applied twice, the ledger nets to zero, every
outcome was published and the money loop (payables, clearing, chargebacks)
adds up. The last line of output is one JSON object with the counts.

  --short     the CI size: ~1000 events, 2 kills, 1 Redis and 1 Postgres restart,
              1 offset rewind, every bad-message kind once (under 2 minutes)
  --seed N    repeat the workload and fault plan of an earlier run
  --events N  how many valid events to stream (default 5000, or 1000 with --short)
  --keep      keep the run folder (worker logs, the scratch Postgres) and topics
Kafka and the schema registry come from KAFKA_BROKERS and SCHEMA_REGISTRY_URL
(default: the local services); Postgres and Redis are the suite's own.`;

export class UsageError extends Error {}

export function parseOptions(args: readonly string[]): SuiteOptions {
  const flags = new Set<string>(args.filter((arg) => arg === '--short' || arg === '--keep'));
  const value = (name: string): number | undefined => {
    const index = args.indexOf(name);
    if (index === -1) return undefined;
    const text = args[index + 1];
    if (text === undefined || !/^\d+$/.test(text)) {
      throw new UsageError(`${name} needs a whole number, e.g. ${name} 42; got ${String(text)}`);
    }
    return Number(text);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--seed' || arg === '--events') i++;
    else if (!flags.has(arg)) throw new UsageError(`unknown option ${arg}`);
  }
  const short = flags.has('--short');
  const events = value('--events') ?? (short ? 1000 : 5000);
  if (events < 200)
    throw new UsageError(
      `--events ${events} is too few to place every fault and bad message; use at least 200`,
    );
  return {
    short,
    seed: value('--seed') ?? newSeed(),
    events,
    window: short ? 40 : 80,
    faults: short
      ? { kill: 2, redis: 1, postgres: 1, rewind: 1 }
      : { kill: 6, redis: 2, postgres: 2, rewind: 2 },
    badRepeat: short ? 1 : 3,
    workers: 2,
    keep: flags.has('--keep'),
    stallMs: 150_000,
    drainMs: short ? 150_000 : 240_000,
    overallMs: short ? 10 * 60_000 : 25 * 60_000,
  };
}
