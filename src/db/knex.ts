/**
 * The one place a Knex instance is made. Money columns are NUMERIC or BIGINT;
 * pg returns both as strings by default, and we keep it that way so no amount
 * ever passes through a JS number.
 */
import knex, { type Knex } from 'knex';
import { types as pgTypes } from 'pg';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

export const migrationsDirectory = path.resolve(__dirname, '..', '..', 'migrations');

interface MigrationModule {
  up(db: Knex): Promise<void>;
}

/**
 * Migrations are forward-only: files export `up` alone, and this source gives
 * Knex (which insists on a `down`) one that refuses with the way forward.
 */
class ForwardOnlyMigrations implements Knex.MigrationSource<string> {
  getMigrations(): Promise<string[]> {
    // .ts under tsx and jest, .js once compiled into dist/ (never both in one folder).
    const files = readdirSync(migrationsDirectory).filter((file) => /^\d+_.+\.(ts|js)$/.test(file));
    return Promise.resolve(files.filter((file) => !file.endsWith('.d.ts')).sort());
  }
  getMigrationName(file: string): string {
    // Named without extension so a compiled deployment matches what tsx recorded.
    return file.replace(/\.(ts|js)$/, '');
  }
  getMigration(file: string): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const migration = require(path.join(migrationsDirectory, file)) as MigrationModule;
    return Promise.resolve({
      up: (db: Knex) => migration.up(db),
      down: () => {
        throw new Error(`${file} is forward-only: correct it with a new migration.`);
      },
    });
  }
}

// One line each: Knex puts whole stack traces in some messages (a failed
// connection); the caller reports the cause in words of its own.
const toStderr = (message: unknown): void => {
  const text = typeof message === 'string' ? message : JSON.stringify(message);
  process.stderr.write(`knex: ${text.split('\n', 1)[0]}\n`);
};

/**
 * pg's parsers, except that a BIGINT (int8) column arrives as Postgres wrote it.
 * pg's own int8 parser returns the same string (or the value itself when it
 * is not all digits, a negative amount), after a String() and a regular
 * expression per value; this runs for every amount and id of every row read.
 */
const bigintAsText = (value: string) => value;
const INT8_OID = 20;
export const pgTypeParsers = {
  getTypeParser: (oid: number, format: string): unknown =>
    oid === INT8_OID && format !== 'binary'
      ? bigintAsText
      : pgTypes.getTypeParser(oid, format === 'binary' ? 'binary' : 'text'),
};

export function createKnex(
  config: Pick<Config, 'DATABASE_URL'>,
  options: { poolMax?: number } = {},
): Knex {
  const instance = knex({
    client: 'pg',
    connection: {
      connectionString: config.DATABASE_URL,
      application_name: 'escrow-worker',
      types: pgTypeParsers,
    },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 5000,
    // A failed query's message is Knex's "<the query> - <the database's words>";
    // by default with the values bound in, which would put amounts, ids and
    // whole payloads into logs and dead-letter reasons. Placeholders only; and
    // the query is taken off again below.
    compileSqlOnError: false,
    migrations: { migrationSource: new ForwardOnlyMigrations(), tableName: 'knex_migrations' },
    // Knex's own warnings (a failed connection, a pool timeout) default to console.log on
    // stdout, where commands print their output (--json); they belong on stderr.
    log: {
      warn: toStderr,
      error: toStderr,
      deprecate: toStderr,
      debug: toStderr,
    },
  });
  // A slice's statements run to hundreds of lines: the database's own words
  // (with its SQLSTATE in `code`) say what went wrong, the statement does not.
  instance.on('query-error', (error: unknown, query: { sql?: unknown }) => {
    if (!(error instanceof Error) || typeof query.sql !== 'string') return;
    const prefix = `${query.sql} - `;
    if (error.message.startsWith(prefix)) error.message = error.message.slice(prefix.length);
  });
  return instance;
}
