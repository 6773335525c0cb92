/** `npm run migrate`: brings the database named by DATABASE_URL up to date. */
import { ConfigError, loadConfig } from '../config';
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
  } finally {
    await db.destroy();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    const code = (error as { code?: string }).code;
    const hint =
      code === 'ECONNREFUSED'
        ? ' Postgres is not reachable: start it (`npm run services:up`) or fix DATABASE_URL.'
        : code === '3D000'
          ? ' The database does not exist: create it (`npm run services:up` creates `escrow`).'
          : '';
    process.stderr.write(`migrate failed: ${(error as Error).message}${hint}\n`);
  }
  process.exit(1);
});
