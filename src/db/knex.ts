/**
 * The one place a Knex instance is made. Money columns are NUMERIC or BIGINT;
 * pg returns both as strings by default, and we keep it that way so no amount
 * ever passes through a JS number.
 */
import knex, { type Knex } from 'knex';
import path from 'node:path';
import type { Config } from '../config';

export const migrationsDirectory = path.resolve(__dirname, '..', '..', 'migrations');

export function createKnex(
  config: Pick<Config, 'DATABASE_URL'>,
  options: { poolMax?: number } = {},
): Knex {
  return knex({
    client: 'pg',
    connection: { connectionString: config.DATABASE_URL, application_name: 'escrow-worker' },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
    migrations: {
      directory: migrationsDirectory,
      // .ts under tsx and jest, .js once compiled into dist/.
      loadExtensions: ['.ts', '.js'],
      tableName: 'knex_migrations',
    },
  });
}
