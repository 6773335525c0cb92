/**
 * `npm run migrate`: brings the database named by DATABASE_URL up to date,
 * connected as the schema's owner; with DATABASE_WORKER_ROLE set, then gives
 * that role exactly the worker's rights (src/db/grant-worker.ts).
 */
import { ConfigError, loadConfig } from '../config';
import { connectionFailure } from './connection-check';
import { grantWorkerRole } from './grant-worker';
import { createKnex } from './knex';
import { migrateToLatest } from './migrate';

async function main(): Promise<void> {
  const config = loadConfig();
  const db = createKnex(config, { poolMax: 1 });
  const target = new URL(config.DATABASE_URL);
  try {
    process.stderr.write(`migrating ${target.host}${target.pathname}\n`);
    const { applied } = await migrateToLatest(db);
    for (const name of applied) process.stderr.write(`  applied ${name}\n`);
    process.stderr.write(
      applied.length === 0 ? 'already up to date\n' : `${applied.length} migration(s) applied\n`,
    );
    const role = config.DATABASE_WORKER_ROLE;
    if (role === undefined) {
      process.stderr.write(
        'DATABASE_WORKER_ROLE is unset: no grants (the worker connects as this role)\n',
      );
      return;
    }
    const report = await grantWorkerRole(db, role);
    process.stderr.write(`granted ${role} on schema ${report.schema}, and no more:\n`);
    for (const line of report.lines) process.stderr.write(`  ${line}\n`);
    process.stderr.write(
      `checked: ${role} may not UPDATE, DELETE or TRUNCATE the ledger, nor CREATE in ${report.schema}\n`,
    );
  } catch (error) {
    // A wrong password or an untrusted certificate: named with the fix, not retried.
    throw connectionFailure(error, config.DATABASE_URL) ?? error;
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const code = (error as { code?: string }).code;
  const hint =
    code === 'ECONNREFUSED'
      ? ' Postgres is not reachable: start it (`npm run services:up`) or fix DATABASE_URL.'
      : '';
  process.stderr.write(`migrate failed: ${(error as Error).message}${hint}\n`);
  process.exit(1);
});
