/**
 * Waits, with a bound, until the workers have nothing left to do: every
 * inbound message committed by the group (lag 0), every outbox row published,
 * and no release waiting on an inspection timer. The state must hold on two
 * polls in a row, a second apart, so a message in the middle of being handled
 * is not mistaken for the end. Gives back what is still pending when the
 * bound passes, for the report.
 */
import type { Knex } from 'knex';
import { sleep } from '../../infra/services/shell';
import type { FaultKafka } from './kafka-admin';

interface Pending {
  lag: number;
  lagByPartition: Record<string, number>;
  unpublished: number;
  timersDue: number;
}

async function pending(db: Knex, kafka: FaultKafka): Promise<Pending | undefined> {
  try {
    const { total, byPartition } = await kafka.lag();
    const [unpublished] = await db('outbox')
      .whereNull('published_at')
      .count<{ n: string }[]>({ n: '*' });
    const [timers] = await db('milestones')
      .where({ state: 'AWAITING_RELEASE' })
      .whereNotNull('inspection_deadline')
      .count<{ n: string }[]>({ n: '*' });
    return {
      lag: total,
      lagByPartition: byPartition,
      unpublished: Number(unpublished?.n ?? 0),
      timersDue: Number(timers?.n ?? 0),
    };
  } catch {
    return undefined; // a service is being restarted: ask again
  }
}

const idle = (state: Pending | undefined) =>
  state !== undefined && state.lag === 0 && state.unpublished === 0 && state.timersDue === 0;

/** Resolves undefined once drained, or a description of what is still pending at the deadline. */
export async function waitForDrain(
  db: Knex,
  kafka: FaultKafka,
  timeoutMs: number,
  reviveCrashed: () => void,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: Pending | undefined;
  let idleInARow = 0;
  while (Date.now() < deadline) {
    reviveCrashed();
    last = await pending(db, kafka);
    idleInARow = idle(last) ? idleInARow + 1 : 0;
    if (idleInARow >= 2) return undefined;
    await sleep(1000);
  }
  if (!last) return `nothing could be asked of Kafka and Postgres for ${timeoutMs / 1000} s`;
  const behind = Object.entries(last.lagByPartition)
    .filter(([, lag]) => lag > 0)
    .map(([partition, lag]) => `${partition}: ${lag}`)
    .join(', ');
  return (
    `the workers did not drain within ${timeoutMs / 1000} s: consumer lag ${last.lag}` +
    (behind ? ` (${behind})` : '') +
    `, ${last.unpublished} outbox rows unpublished, ${last.timersDue} releases waiting on a timer`
  );
}
