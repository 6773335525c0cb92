/**
 * Postgres and Redis are the machine's own services (127.0.0.1:5432 and :6379).
 * services:up starts them with the machine's commands only when they are down,
 * and then records it so services:down stops them again; it creates the
 * `escrow` database the worker's default DATABASE_URL names.
 */
import { existsSync, readdirSync } from 'node:fs';
import { Client } from 'pg';
import { recordStarted } from './state';
import { ServicesError, commandExists, log, portOpen, run, waitFor } from './shell';

const PG_PORT = 5432;
const REDIS_PORT = 6379;

function postgresCluster(): string | undefined {
  if (!existsSync('/etc/postgresql')) return undefined;
  return readdirSync('/etc/postgresql')[0];
}

export async function ensurePostgres(port = PG_PORT): Promise<void> {
  if (!(await portOpen(port))) {
    const version = postgresCluster();
    if (!version || !commandExists('pg_ctlcluster')) {
      throw new ServicesError(
        `Postgres is not running on 127.0.0.1:${port}, and this machine has no pg_ctlcluster to start it. ` +
          'Start Postgres 15+ with trust or password auth, or set DATABASE_URL to a running one.',
      );
    }
    const start = ['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'start'];
    log(`Postgres is down; starting it: ${start.join(' ')}`);
    const result = await run(start[0]!, start.slice(1), { timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new ServicesError(`Could not start Postgres (${start.join(' ')}):\n${result.output}`);
    }
    recordStarted('postgres', {
      stopCommand: ['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'stop'],
      startedAt: new Date().toISOString(),
    });
    await waitFor(
      'Postgres',
      () => portOpen(port),
      30_000,
      () => 'See /var/log/postgresql.',
    );
  }
  await createDatabase('escrow', port);
  log(`Postgres is ready on 127.0.0.1:${port} (database escrow)`);
}

/** Runs `work` on the server's maintenance database; a failure is the ServicesError `refused` says. */
async function onMaintenanceDatabase(
  port: number,
  work: (client: Client) => Promise<void>,
  refused: (message: string) => string,
): Promise<void> {
  const client = new Client({
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    await work(client);
  } catch (error) {
    throw new ServicesError(refused((error as Error).message));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates a database unless it exists; CREATE DATABASE cannot run in a transaction. */
export async function createDatabase(name: string, port = PG_PORT): Promise<void> {
  await onMaintenanceDatabase(
    port,
    async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
    },
    (message) =>
      `Postgres on 127.0.0.1:${port} refused the user "postgres" or the creation of database ` +
      `"${name}": ${message}. Allow trust auth for local connections, or set DATABASE_URL.`,
  );
}

/** Drops a database if it exists, closing the sessions still on it. */
export async function dropDatabase(name: string, port = PG_PORT): Promise<void> {
  await onMaintenanceDatabase(
    port,
    async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
    (message) => `Could not drop database "${name}" on 127.0.0.1:${port}: ${message}.`,
  );
}

export async function ensureRedis(): Promise<void> {
  if (await portOpen(REDIS_PORT)) {
    log(`Redis is ready on 127.0.0.1:${REDIS_PORT}`);
    return;
  }
  if (!commandExists('redis-server')) {
    throw new ServicesError(
      `Redis is not running on 127.0.0.1:${REDIS_PORT}, and redis-server is not installed. ` +
        'Install Redis 7 (Debian: apt-get install -y redis-server), or set REDIS_URL.',
    );
  }
  const args = ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', `${REDIS_PORT}`];
  args.push('--save', '', '--appendonly', 'no');
  log('Redis is down; starting it: redis-server ' + args.join(' '));
  const result = await run('redis-server', args, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new ServicesError(`Could not start Redis:\n${result.output}`);
  recordStarted('redis', {
    stopCommand: ['redis-cli', '-p', `${REDIS_PORT}`, 'shutdown', 'nosave'],
    startedAt: new Date().toISOString(),
  });
  await waitFor(
    'Redis',
    () => portOpen(REDIS_PORT),
    15_000,
    () => 'Check redis-server output.',
  );
  log(`Redis is ready on 127.0.0.1:${REDIS_PORT}`);
}
