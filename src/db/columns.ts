/**
 * Bindings for `unnest(?::type[], ...)`: each column is one array parameter,
 * which pg sends as an SQL array, nulls included. Knex's binding types only
 * know flat values, hence the cast. Multi-row writes use this so that a batch
 * of any size is one statement with a fixed number of parameters.
 */
import type { Knex } from 'knex';

export const columnsOf = (...columns: (readonly (string | number | boolean | null)[])[]) =>
  columns as unknown as readonly (Knex.RawBinding & Bound)[];

/**
 * A multi-row parameter: the whole batch as ONE jsonb parameter of positional
 * rows (`[["o-1", "m-1", 3], ...]`), read in SQL as a subquery with one typed
 * column per position. The statement's text uses `sql` where a table would
 * go; its binding is `json(rows)`. Both come from one definition, in the
 * shape of jsonb_to_recordset's (`name type, ...`), so the columns' order
 * cannot drift between the two sides.
 *
 * Positional, not objects: JSON.stringify writes no key per value (the keys
 * were half of the bytes) and Postgres neither parses nor looks them up, so
 * both sides spend a fraction of what jsonb_to_recordset of objects cost
 * (measured in docs/benchmark.md). JSON.stringify is native and Postgres
 * parses JSON in C, which costs far less than one binding per value (a
 * query builder's multi-row VALUES) or pg's per-element array escaping.
 *
 * Column types are scalar (text, integer, bigint, boolean, uuid,
 * timestamptz, ...) or jsonb: an array type or json would need another
 * extraction than `->>` and a cast, and is refused.
 *
 * Values must already be JSON-safe: bigints as decimal strings, dates as
 * Date (JSON.stringify writes their ISO text). A value that is undefined, or
 * a key the row lacks, is NULL, as with jsonb_to_recordset; so is a JSON null
 * for a jsonb column (not the jsonb value `null`).
 */
export class Recordset<Row extends object> {
  /** `(SELECT (element.value->>0)::text AS a, ... FROM jsonb_array_elements(?::jsonb) ...) AS alias`: one `?`. */
  readonly sql: string;
  private readonly keys: readonly string[];

  /**
   * `definition` as jsonb_to_recordset's column list: `name type, ...`, a
   * name double-quoted where its case matters. `ordered` adds a column
   * `position` (1, 2, ... in the rows' order) for an ORDER BY.
   */
  constructor(alias: string, definition: string, options: { ordered?: boolean } = {}) {
    const columns = definition.split(',').map((column) => {
      const match =
        /^\s*("[A-Za-z_][A-Za-z0-9_]*"|[a-z_][a-z0-9_]*)\s+([a-z][a-z ]*[a-z])\s*$/.exec(column);
      if (match === null || match[2] === 'json')
        throw new Error(`recordset ${alias}: cannot read the column "${column}"`);
      return { name: match[1]!, type: match[2]! };
    });
    this.keys = columns.map(({ name }) => name.replace(/"/g, ''));
    const selects = columns.map(({ name, type }, index) =>
      type === 'jsonb'
        ? `nullif(element.value->${index}, 'null'::jsonb) AS ${name}`
        : `(element.value->>${index})::${type} AS ${name}`,
    );
    const elements = options.ordered
      ? 'jsonb_array_elements(?::jsonb) WITH ORDINALITY AS element(value, position)'
      : 'jsonb_array_elements(?::jsonb) AS element(value)';
    if (options.ordered) selects.push('element.position AS position');
    this.sql = `(SELECT ${selects.join(', ')} FROM ${elements}) AS ${alias}`;
  }

  /**
   * The binding for `sql`: each row as an array of its values in the
   * columns' order. A Date is written as JSON.stringify writes it (its ISO
   * text; null when invalid), but once per Date object rather than through
   * its toJSON at every value: a batch's rows mostly share one timestamp,
   * and JSON.stringify's call of toJSON was most of what writing a row with
   * dates cost.
   */
  json(rows: readonly Row[]): string {
    const keys = this.keys;
    const positional = new Array<unknown[]>(rows.length);
    let lastDate: Date | undefined;
    let lastText: string | null = null;
    for (let row = 0; row < rows.length; row++) {
      const source = rows[row] as Record<string, unknown>;
      const values = new Array<unknown>(keys.length);
      for (let column = 0; column < keys.length; column++) {
        const value = source[keys[column]!];
        if (value instanceof Date) {
          if (value !== lastDate) {
            lastDate = value;
            lastText = Number.isFinite(value.getTime()) ? value.toISOString() : null;
          }
          values[column] = lastText;
        } else values[column] = value;
      }
      positional[row] = values;
    }
    return JSON.stringify(positional);
  }
}

/**
 * A raw statement run as a named prepared statement (pg prepares it once per
 * connection under `name`, then only binds and executes): parsed and planned
 * once rather than on every batch, which is most of the database's cost for
 * small batches. The SQL text must be the same on every call under one name.
 *
 * Inside a transaction the statement goes straight to the transaction's pg
 * connection: Knex would only turn the `?` placeholders into `$n` again on
 * every call (the text is fixed per name, so that is done once here), walk
 * every bound array for an undefined value and run its query events on
 * every statement. Outside a transaction it runs through Knex, which
 * acquires and releases the pooled connection. Bindings are plain values
 * (pg binds them as they are): a Knex expression such as `trx.fn.now()`,
 * which Knex would have inlined, belongs in the SQL text instead.
 */
export function prepared<R>(
  db: Knex | Knex.Transaction,
  name: string,
  sql: string,
  bindings: readonly Bound[],
): Promise<R> {
  const statement = `escrow_${name}`;
  if (!db.isTransaction)
    return db
      .raw<R>(sql, bindings as readonly Knex.RawBinding[])
      .options({ name: statement }) as unknown as Promise<R>;
  return onTransaction<R>(db as Knex.Transaction, statement, sql, bindings);
}

/** A value pg binds as it is: a scalar, a date, bytes, or an array of scalars (an SQL array). */
export type Bound =
  string | number | boolean | Date | Buffer | null | readonly (string | number | boolean | null)[];

/** A statement refused before it was sent: a mistake in the code that calls it, never retried. */
export class StatementRefused extends Error {
  readonly code = 'STATEMENT_REFUSED';
  readonly retryable = false;
  constructor(statement: string, why: string) {
    super(`prepared statement ${statement}: ${why}`);
    this.name = 'StatementRefused';
  }
}

async function onTransaction<R>(
  trx: Knex.Transaction,
  name: string,
  sql: string,
  bindings: readonly Bound[],
): Promise<R> {
  const text = positionalText(name, sql);
  refuseUndefined(name, bindings);
  const values = bindings.map((binding) =>
    Array.isArray(binding) ? arrayLiteral(binding as readonly ArrayElement[]) : binding,
  );
  const connection = await transactionConnection(trx);
  // Knex's own guard, checked in the same turn as the send: once the
  // transaction has committed or rolled back, its connection is back in the
  // pool, and a late statement would run in whatever transaction holds it now.
  if (trx.isCompleted()) throw new StatementRefused(name, 'its transaction is already complete');
  return (await connection.query({ name, text, values })) as R;
}

type ArrayElement = string | number | boolean | null;

/**
 * A bound array as Postgres's array literal (`{"a","b",NULL}`), written by
 * JSON.stringify: pg's own conversion quotes each element with two regex
 * replaces and grows the literal by concatenation, which was the worker's
 * largest allocation per statement (the inbox look-up binds every key of a
 * slice). Inside double quotes an array literal takes `\"` and `\\` exactly
 * as JSON writes them; JSON's other escapes (`\n`, `\u0001`, a lone
 * surrogate's `\ud800`) would mean something else there, so an array whose
 * JSON holds one, or a number JSON cannot write (NaN, Infinity), is left to pg.
 * JSON's `null` is the literal's NULL; numbers and booleans go unquoted, which
 * every element type's input reads as pg's quoted text.
 */
export function arrayLiteral(elements: readonly ArrayElement[]): string | readonly ArrayElement[] {
  for (const element of elements) {
    const type = typeof element;
    if (
      type === 'number'
        ? !Number.isFinite(element)
        : type !== 'string' && type !== 'boolean' && element !== null
    )
      return elements;
  }
  const json = JSON.stringify(elements);
  if (json.includes('\\') && /\\[bfnrtu]/.test(json)) return elements;
  return `{${json.slice(1, -1)}}`;
}

/**
 * pg would send an undefined value as NULL; Knex refuses it, and so does this
 * path: an undefined binding, or an undefined element of a bound column, is a
 * bug in the caller, not a NULL.
 */
function refuseUndefined(name: string, bindings: readonly Bound[]): void {
  bindings.forEach((binding, index) => {
    if (
      binding === undefined ||
      (Array.isArray(binding) && (binding as readonly unknown[]).includes(undefined))
    )
      throw new StatementRefused(name, `binding ${index + 1} is or holds undefined`);
  });
}

interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<unknown>;
}

/** The pg client a Knex transaction holds for its whole life. */
const transactionConnection = (trx: Knex.Transaction) =>
  (trx.client as { acquireConnection(): Promise<PgConnection> }).acquireConnection();

const positionalByName = new Map<string, { readonly sql: string; readonly text: string }>();

/**
 * The statement with Knex's `?` placeholders numbered as pg's `$1`, `$2`, ...
 * once per name. Only plain `?` are used in these statements: an identifier
 * binding (`??`) or an escaped `\?` would be a different statement, and is
 * refused rather than numbered wrongly.
 */
export function positionalText(name: string, sql: string): string {
  const known = positionalByName.get(name);
  if (known !== undefined) {
    if (known.sql !== sql) throw new StatementRefused(name, 'it was given two different texts');
    return known.text;
  }
  if (sql.includes('??') || sql.includes('\\?'))
    throw new StatementRefused(name, "it uses ?? or \\?, which only Knex's raw() numbers");
  let position = 0;
  const text = sql.replace(/\?/g, () => `$${++position}`);
  positionalByName.set(name, { sql, text });
  return text;
}
