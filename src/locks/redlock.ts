/**
 * Redlock over one Redis locally, or over a quorum of independent Redis nodes
 * (REDIS_URL with several comma-separated URLs) in production. The lock is an
 * efficiency guard only: correctness rests on the milestone version check in
 * Postgres, because a paused process can outlive its lease.
 */
import Redis from 'ioredis';
import Redlock from 'redlock';
import type { Config } from '../config';

export interface LockService {
  redlock: Redlock;
  clients: Redis[];
  close(): Promise<void>;
}

export function createLockService(config: Pick<Config, 'REDIS_URL'>): LockService {
  const clients = config.REDIS_URL.map(
    (url) =>
      new Redis(url, {
        lazyConnect: false,
        maxRetriesPerRequest: 2,
        connectTimeout: 2000,
        enableOfflineQueue: true,
      }),
  );
  // A lock on an order is held for one event's transaction (milliseconds), so a
  // waiter retries often: 10-20 ms apart, up to the runner's 1 s limit, after
  // which it goes on under the database locks alone.
  const redlock = new Redlock(clients, {
    driftFactor: 0.01,
    retryCount: 60,
    retryDelay: 10,
    retryJitter: 10,
    automaticExtensionThreshold: 500,
  });
  return {
    redlock,
    clients,
    async close() {
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    },
  };
}
