/**
 * Bindings for `unnest(?::type[], ...)`: each column is one array parameter,
 * which pg sends as an SQL array, nulls included. Knex's binding types only
 * know flat values, hence the cast. Multi-row writes use this so that a batch
 * of any size is one statement with a fixed number of parameters.
 */
import type { Knex } from 'knex';

export const columnsOf = (...columns: unknown[][]) =>
  columns as unknown as readonly Knex.RawBinding[];

/**
 * Rows for `jsonb_to_recordset(?::jsonb) AS r(column type, ...)`: the whole
 * batch as one JSON parameter. JSON.stringify is native and Postgres parses
 * JSON in C, which costs the worker far less than one binding per value (a
 * query builder's multi-row VALUES) or pg's per-element array escaping.
 * Values must already be JSON-safe: bigints as decimal strings.
 */
export const recordset = (rows: readonly object[]): string => JSON.stringify(rows);

/**
 * A raw statement run as a named prepared statement (pg prepares it once per
 * connection under `name`, then only binds and executes): parsed and planned
 * once rather than on every batch, which is most of the database's cost for
 * small batches. The SQL text must be the same on every call under one name.
 */
export function prepared<R>(
  db: Knex | Knex.Transaction,
  name: string,
  sql: string,
  bindings: readonly Knex.RawBinding[],
) {
  return db.raw<R>(sql, bindings).options({ name: `escrow_${name}` });
}
