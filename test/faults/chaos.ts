/**
 * The faults, played while the stream runs, each at a planned point of it
 * (a share of the events the workers have handled) so that every run has them all however fast
 * the machine is:
 *   kill      SIGKILL one worker (sometimes both) at that moment, restart it
 *             after a random pause; the group rebalances each time. The first
 *             kill restarts them armed (FAULT_CRASH_AFTER_COMMIT) to die right
 *             after committing an event about to arrive, before its offset;
 *   redis     SIGKILL the suite's Redis, leave it down a few seconds, start it:
 *             the workers must go on under the database locks alone;
 *   postgres  stop the scratch cluster (fast, or immediate = a crash recovered
 *             from the WAL), leave it down a few seconds, start it;
 *   rewind    stop both workers (SIGTERM), wait for the group to be empty,
 *             reset its offsets to the start of every inbound topic, start
 *             them: everything is delivered again and must change nothing.
 */
import { sleep } from '../../infra/services/shell';
import { handledShare, type StreamProgress } from './driver';
import type { WorkerFleet } from './fleet';
import type { FaultKafka } from './kafka-admin';
import type { Random } from './random';
import type { ScratchPostgres } from './scratch-postgres';
import type { ScratchRedis } from './scratch-redis';

export type FaultKind = 'kill' | 'redis' | 'postgres' | 'rewind';

export interface FaultCounts {
  /** Workers killed by the suite (a kill fault may take both). */
  kills: number;
  redisRestarts: number;
  postgresRestarts: number;
  offsetRewinds: number;
  /** Faults carried out, by kind: a kill counts when it killed at least one worker. */
  played: Record<FaultKind, number>;
  /** The event the workers were armed with, if they were (the first kill arms them). */
  armed: string | undefined;
}

export interface ChaosDependencies {
  rnd: Random;
  fleet: WorkerFleet;
  redis: ScratchRedis;
  postgres: ScratchPostgres;
  kafka: FaultKafka;
  workerSlots: number[];
  /** An event about to be sent, for the workers to kill themselves right after committing it. */
  upcomingEventId: () => string | undefined;
  say: (line: string) => void;
}

/** The planned faults, shuffled, spread over 10%–85% of the stream with some jitter. */
export function planFaults(
  rnd: Random,
  counts: Record<FaultKind, number>,
): { at: number; kind: FaultKind }[] {
  const kinds: FaultKind[] = (Object.keys(counts) as FaultKind[]).flatMap((kind) =>
    Array<FaultKind>(counts[kind]).fill(kind),
  );
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const gap = 0.75 / Math.max(1, kinds.length);
  return kinds.map((kind, index) => ({ kind, at: 0.1 + gap * index + rnd.next() * gap * 0.8 }));
}

export async function playFaults(
  plan: { at: number; kind: FaultKind }[],
  progress: StreamProgress,
  deps: ChaosDependencies,
): Promise<FaultCounts> {
  const counts: FaultCounts = {
    kills: 0,
    redisRestarts: 0,
    postgresRestarts: 0,
    offsetRewinds: 0,
    played: { kill: 0, redis: 0, postgres: 0, rewind: 0 },
    armed: undefined,
  };
  for (const fault of plan) {
    // A stream that ended early (stalled) still gets every fault: the counts are the run's promise.
    while (!progress.finished && handledShare(progress) < fault.at) await sleep(100);
    const where = `${Math.round(100 * handledShare(progress))}% of the stream`;
    switch (fault.kind) {
      case 'kill': {
        // The first kill takes every worker down and restarts them armed: whichever
        // handles the armed event dies between its database commit and its offset commit.
        const armed = counts.kills === 0 ? deps.upcomingEventId() : undefined;
        const both = armed !== undefined || deps.rnd.chance(0.25);
        const victims = both ? deps.workerSlots : [deps.rnd.pick(deps.workerSlots)];
        deps.say(`fault at ${where}: SIGKILL worker ${victims.join(' and ')}`);
        // A worker may have just killed itself (armed, and a second armed worker
        // that takes over the armed event's partition does so too): the fleet's
        // reviver starts it again within a second, and the planned kill then
        // kills the new one, instead of finding the slot empty and not counting.
        const killed: number[] = [];
        for (const slot of victims) {
          for (let waited = 0; !deps.fleet.running(slot) && waited < 5000; waited += 100)
            await sleep(100);
          if (await deps.fleet.kill(slot)) killed.push(slot);
        }
        counts.kills += killed.length;
        if (killed.length > 0) counts.played.kill++;
        await sleep(deps.rnd.int(200, 3000));
        if (armed) {
          deps.say(
            `  restarted armed: the one to commit ${armed} kills itself before its offset commit`,
          );
          deps.fleet.arm(armed);
          counts.armed = armed;
        }
        for (const slot of killed) if (!deps.fleet.running(slot)) deps.fleet.start(slot);
        break;
      }
      case 'redis': {
        const downMs = deps.rnd.int(3000, 6000);
        deps.say(`fault at ${where}: Redis down for ${downMs} ms`);
        await deps.redis.stop();
        await sleep(downMs);
        await deps.redis.start();
        counts.redisRestarts++;
        counts.played.redis++;
        break;
      }
      case 'postgres': {
        const mode = counts.postgresRestarts % 2 === 0 ? 'fast' : 'immediate';
        const downMs = deps.rnd.int(2000, 5000);
        deps.say(`fault at ${where}: Postgres stopped (${mode}) for ${downMs} ms`);
        await deps.postgres.stop(mode);
        await sleep(downMs);
        await deps.postgres.start();
        counts.postgresRestarts++;
        counts.played.postgres++;
        break;
      }
      case 'rewind': {
        deps.say(
          `fault at ${where}: workers stopped, offsets rewound to the start, workers started`,
        );
        deps.fleet.revivalHeld = true;
        try {
          await deps.fleet.stopAll();
          await deps.kafka.waitForEmptyGroup(60_000);
          await deps.kafka.rewindToEarliest();
        } finally {
          deps.fleet.revivalHeld = false;
        }
        for (const slot of deps.workerSlots) if (!deps.fleet.running(slot)) deps.fleet.start(slot);
        counts.offsetRewinds++;
        counts.played.rewind++;
        break;
      }
    }
  }
  return counts;
}
