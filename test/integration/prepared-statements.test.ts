/**
 * `prepared()` (src/db/columns.ts) on real Postgres: inside a transaction a
 * statement goes straight to the transaction's pg connection as a named
 * prepared statement, with Knex's `?` numbered as `$n` once per name; outside
 * one it runs through Knex. What Knex guarded still holds on the direct path:
 * an undefined value is refused before anything is sent, and the database's
 * own error (SQLSTATE and words) reaches the caller.
 */
import type { Knex } from 'knex';
import { arrayLiteral, positionalText, prepared, Recordset } from '../../src/db/columns';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

const statementsOfSession = async (trx: Knex.Transaction) =>
  (
    await trx.raw<{ rows: { name: string; statement: string }[] }>(
      'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
    )
  ).rows;

beforeAll(async () => {
  await ctx.db.raw('CREATE TABLE prepared_probe (id integer PRIMARY KEY, label text NOT NULL)');
});

describe('prepared() in a transaction', () => {
  it('runs on the transaction, as a named statement with $n placeholders, and is rolled back with it', async () => {
    const probes = new Recordset<{ id: number; label: string }>('r', 'id integer, label text');
    const sql = `INSERT INTO prepared_probe (id, label)
      SELECT * FROM ${probes.sql}
      WHERE r.id <> ?
      RETURNING id, label`;
    // Knex reports every query it runs; the direct path runs none through it.
    const throughKnex: string[] = [];
    const onQuery = (query: { sql: string }) => throughKnex.push(query.sql);
    ctx.db.on('query', onQuery);
    await expect(
      ctx.db.transaction(async (trx) => {
        const { rows } = await prepared<{ rows: { id: number; label: string }[] }>(
          trx,
          'probe_insert',
          sql,
          [
            probes.json([
              { id: 1, label: 'one' },
              { id: 2, label: 'two' },
              { id: 3, label: 'three' },
            ]),
            2,
          ],
        );
        expect(rows).toEqual([
          { id: 1, label: 'one' },
          { id: 3, label: 'three' },
        ]);
        // Visible inside the transaction (the same connection)...
        const inside = await trx('prepared_probe').count<{ count: string }[]>('* AS count');
        expect(inside[0]!.count).toBe('2');
        // ...prepared on it under its name, with pg's numbered placeholders.
        const prepared_ = (await statementsOfSession(trx)).find(
          (s) => s.name === 'escrow_probe_insert',
        );
        expect(prepared_?.statement).toContain('jsonb_array_elements($1::jsonb)');
        expect(prepared_?.statement).toContain('r.id <> $2');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    ctx.db.off('query', onQuery);
    expect(throughKnex.filter((sql) => sql.includes('prepared_probe (id, label)'))).toEqual([]);
    const after = await ctx.db('prepared_probe').count<{ count: string }[]>('* AS count');
    expect(after[0]!.count).toBe('0');
  });

  it('refuses an undefined binding, or an undefined element of a bound column, before sending anything', async () => {
    await ctx.db.transaction(async (trx) => {
      const sql = 'SELECT count(*)::int AS n FROM unnest(?::int[]) WHERE ?::int IS NOT NULL';
      await expect(
        prepared(trx, 'probe_undefined', sql, [[1, 2], undefined as unknown as number]),
      ).rejects.toThrow(
        'prepared statement escrow_probe_undefined: binding 2 is or holds undefined',
      );
      await expect(
        prepared(trx, 'probe_undefined', sql, [[1, undefined as unknown as number], 1]),
      ).rejects.toThrow('binding 1 is or holds undefined');
      // Nothing reached the session: the transaction is still usable and the statement was never prepared.
      expect((await statementsOfSession(trx)).map((s) => s.name)).not.toContain(
        'escrow_probe_undefined',
      );
      const { rows } = await prepared<{ rows: { n: number }[] }>(trx, 'probe_undefined', sql, [
        [1, 2],
        1,
      ]);
      expect(rows).toEqual([{ n: 2 }]);
    });
  });

  it("passes the database's own error on: its SQLSTATE and words, without the statement", async () => {
    await ctx.db('prepared_probe').insert({ id: 7, label: 'seven' });
    const failure = await ctx.db
      .transaction((trx) =>
        prepared(trx, 'probe_duplicate', 'INSERT INTO prepared_probe (id, label) VALUES (?, ?)', [
          7,
          'again',
        ]),
      )
      .catch((error: unknown) => error as Error & { code?: string });
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe('23505');
    expect((failure as Error).message).toMatch(/^duplicate key value violates unique constraint/);
  });
});

describe('bound arrays', () => {
  // Whatever a caller binds, the database must read the elements pg's own
  // conversion would have given it: text[] and bigint[] read back unchanged.
  const texts: (string | null)[][] = [
    [],
    ['plain', 'order-000001', 'payment:["adyen","psp-1"]'],
    ['a"quote', 'back\\slash', '\\"both', 'comma,inside', '{braces}', ' spaced ', ''],
    ['NULL', 'null', null, 'NuLl', 'x'],
    ['emoji 😀', 'ünïcödé', '\u2028 line separator'],
    // JSON would escape these as \n, \t and \u0001: left to pg.
    ['line\nbreak', 'tab\there', '\u0001control', 'back\\nslash-n'],
  ];

  it.each(texts.map((elements) => [elements]))(
    'text[] %j reads back as bound',
    async (elements) => {
      const { rows } = await ctx.db.transaction((trx) =>
        prepared<{ rows: { value: (string | null)[]; length: number | null }[] }>(
          trx,
          'probe_text_array',
          'SELECT ?::text[] AS value, cardinality(?::text[]) AS length',
          [elements, elements],
        ),
      );
      expect(rows[0]!.value).toEqual(elements);
      expect(rows[0]!.length).toBe(elements.length);
    },
  );

  it('bigint[], integer[] and boolean[] read back as bound, at the edges of BIGINT', async () => {
    const { rows } = await ctx.db.transaction((trx) =>
      prepared<{ rows: { big: string[]; small: number[]; flags: boolean[] }[] }>(
        trx,
        'probe_number_arrays',
        'SELECT ?::bigint[] AS big, ?::int[] AS small, ?::boolean[] AS flags',
        [
          ['-9223372036854775808', '0', '9223372036854775807'],
          [-2147483648, -0, 7, 2147483647],
          [true, false, null],
        ],
      ),
    );
    expect(rows[0]).toEqual({
      big: ['-9223372036854775808', '0', '9223372036854775807'],
      small: [-2147483648, 0, 7, 2147483647],
      flags: [true, false, null],
    });
  });

  it('are written by JSON where JSON and the array literal agree, and left to pg where they do not', () => {
    expect(arrayLiteral(['a"b', 'c\\d', null, 7, true])).toBe('{"a\\"b","c\\\\d",null,7,true}');
    expect(arrayLiteral([])).toBe('{}');
    const newline = ['line\nbreak'];
    expect(arrayLiteral(newline)).toBe(newline);
    // (Neither path can store a lone surrogate: UTF-8 makes it U+FFFD.)
    const surrogate = ['lone \ud800 surrogate'];
    expect(arrayLiteral(surrogate)).toBe(surrogate);
    const notANumber = [1, Number.NaN];
    expect(arrayLiteral(notANumber)).toBe(notANumber);
  });
});

describe('prepared() outside a transaction', () => {
  it('runs through Knex on a pooled connection', async () => {
    const { rows } = await prepared<{ rows: { label: string }[] }>(
      ctx.db,
      'probe_read',
      'SELECT label FROM prepared_probe WHERE id = ?',
      [7],
    );
    expect(rows).toEqual([{ label: 'seven' }]);
  });
});

describe('positionalText', () => {
  it('numbers each ? in order, once per name', () => {
    expect(positionalText('t_numbered', 'SELECT ?::int + ?, ?')).toBe('SELECT $1::int + $2, $3');
    expect(positionalText('t_numbered', 'SELECT ?::int + ?, ?')).toBe('SELECT $1::int + $2, $3');
  });

  it('refuses a second text under one name, and the placeholders only Knex understands', () => {
    positionalText('t_once', 'SELECT ?');
    expect(() => positionalText('t_once', 'SELECT ?, ?')).toThrow(
      'prepared statement t_once: it was given two different texts',
    );
    expect(() => positionalText('t_identifier', 'SELECT ?? FROM t')).toThrow('uses ?? or \\?');
    expect(() => positionalText('t_escaped', "SELECT '\\?'")).toThrow('uses ?? or \\?');
  });
});

test('a statement after its transaction completed is refused, never sent on the connection the pool now lends to others', async () => {
  let finished: Knex.Transaction | undefined;
  await ctx.db.transaction(async (trx) => {
    await trx.raw('SELECT 1');
    finished = trx;
  });
  await expect(
    prepared(finished!, 'probe_late', 'INSERT INTO prepared_probe (id, label) VALUES (?, ?)', [
      99,
      'late',
    ]),
  ).rejects.toThrow('prepared statement escrow_probe_late: its transaction is already complete');
  const late = await ctx
    .db('prepared_probe')
    .where({ id: 99 })
    .count<{ count: string }[]>('* AS count');
  expect(late[0]!.count).toBe('0');
});
