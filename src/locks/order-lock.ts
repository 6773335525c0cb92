/**
 * The Redlock lock over a slice's orders: one lock over all of them, in one
 * round trip (Redlock sets all of a lock's keys in one script, all or none).
 * An efficiency guard only: if it is not granted within `waitMs` the slice
 * goes on under the database's locks, which are what correctness rests on.
 */
import type { Lock } from 'redlock';
import { compareCodePoints } from '../domain/text/code-point-order';
import type { Logger } from '../logging/logger';
import type { WorkerMetrics } from '../ops/metrics';
import type { LockService } from './redlock';

/** Redis gave no answer in time; the slice goes on without the lock. */
export class LockTimeout extends Error {
  readonly retryable = true;
  constructor(waitMs: number) {
    super(`Redis did not answer within ${waitMs} ms`);
    this.name = 'LockTimeout';
  }
}

export interface OrderLockDependencies {
  readonly locks: LockService;
  readonly metrics: Pick<WorkerMetrics, 'lockWaitSeconds' | 'lockFailures'>;
  readonly topicPrefix: string;
  readonly log: Logger;
}

const leaseMs = 10_000;
const waitMs = 1000;

/** The lock over the orders, or undefined when Redis refused or did not answer in time. */
export async function lockOrders(
  deps: OrderLockDependencies,
  orderIds: readonly string[],
): Promise<Lock | undefined> {
  const resources = [...new Set(orderIds)]
    .sort(compareCodePoints)
    .map((orderId) => `escrow:${deps.topicPrefix}lock:order:${orderId}`);
  const waited = deps.metrics.lockWaitSeconds.startTimer();
  const acquiring = deps.locks.redlock.acquire(resources, leaseMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      acquiring,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LockTimeout(waitMs)), waitMs);
      }),
    ]);
  } catch (error) {
    const reason = error instanceof LockTimeout ? 'TIMEOUT' : 'NOT_GRANTED';
    deps.metrics.lockFailures.inc({ reason });
    // Given up on: if the lock is granted later after all, hand it straight back.
    void acquiring.then((late) => late.release()).catch(() => undefined);
    deps.log.warn({ err: error }, 'no Redis lock; continuing under the database locks alone');
    return undefined;
  } finally {
    clearTimeout(timer);
    waited();
  }
}
