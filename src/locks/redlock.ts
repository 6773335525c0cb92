/**
 * Redlock over one Redis locally, or over a quorum of independent Redis nodes
 * (REDIS_URL with several comma-separated URLs) in production. The lock is an
 * efficiency guard only: correctness rests on the milestone version check in
 * Postgres, because a paused process can outlive its lease.
 */
import Redis from 'ioredis';
import Redlock from 'redlock';
import type { Logger } from '../logging/logger';
import { failureCode } from './redis-failure';
import { nodeOptions, readCa, type RedisNodeSettings, shownNode } from './redis-nodes';

const ignoreLaterErrors = () => undefined;

export interface LockService {
  redlock: Redlock;
  clients: Redis[];
  close(): Promise<void>;
}

/**
 * Every node with its URL's credentials, and TLS for rediss:// (see
 * redis-nodes.ts). A node is connected at its first command, so that nothing
 * connects before the start-up check has judged the settings
 * (redis-start-check.ts). `log` hears of a node that fails, once per kind of
 * failure until it answers again, instead of ioredis printing every retry
 * with a stack.
 */
export function createLockService(config: RedisNodeSettings, log?: Logger): LockService {
  const ca = readCa(config);
  const clients = config.REDIS_URL.map((url) => {
    const client = new Redis(url, {
      ...nodeOptions(url, ca),
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      connectTimeout: 2000,
      enableOfflineQueue: true,
    });
    let reported: string | undefined;
    client.on('ready', () => (reported = undefined));
    client.on('error', (error: Error) => {
      // A TLS socket can fail twice (the certificate refused, then the
      // server's alert), and ioredis listens for its first error only.
      client.stream?.on('error', ignoreLaterErrors);
      const code = failureCode(error);
      if (code === reported) return;
      reported = code;
      // The code, not the error: ioredis attaches the failed command and its
      // arguments to a reply error (redacting those of AUTH and HELLO), and no
      // log line should depend on that redaction to hold no password.
      log?.warn({ node: shownNode(url), code }, 'Redis node failing; locks go on without it');
    });
    return client;
  });
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
      // QUIT would connect a node that never was; it has nothing to say goodbye to.
      await Promise.all(
        clients.map(async (client) => {
          if (client.status === 'wait') client.disconnect();
          else await client.quit().catch(() => client.disconnect());
        }),
      );
    },
  };
}
