/**
 * Forward-only migrations: each file runs in its own transaction (Knex's
 * default), and there is no `down`. A corrected mistake is a new migration.
 */
import type { Knex } from 'knex';

export interface MigrationReport {
  batch: number;
  applied: string[];
}

export async function migrateToLatest(db: Knex): Promise<MigrationReport> {
  const [batch, applied] = (await db.migrate.latest()) as [number, string[]];
  return { batch, applied };
}
