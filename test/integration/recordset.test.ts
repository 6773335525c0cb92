/**
 * Recordset (src/db/columns.ts) on real Postgres: a batch sent as positional
 * rows reads back exactly as jsonb_to_recordset reads the same rows sent as
 * objects — every type the pipeline binds, NULL spelled every way (null,
 * undefined, a key the row lacks, a JSON null in a jsonb column), bigints at
 * the edge of BIGINT, text with quotes, backslashes, separators and
 * characters outside the BMP — in the rows' order, with `position` when
 * ordered. A definition it cannot read is refused, naming the column.
 */
import { Recordset } from '../../src/db/columns';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

const definition = `id bigint, label text, amount_minor bigint, flag boolean, at timestamptz,
  detail jsonb, ref uuid, small integer, "camelCase" text`;

type Row = Record<string, unknown>;
const rows: Row[] = [
  {
    id: '9223372036854775807',
    label: 'quote " backslash \\ comma , brace {} nul-free \u2028 😀',
    amount_minor: '-9223372036854775808',
    flag: true,
    at: new Date('2026-02-28T23:59:59.999Z'),
    detail: { nested: ['a', 1, null], 'key with "quote"': true },
    ref: '0b7c6a2e-3f8d-4c1a-9e5b-2d4f6a8c0e11',
    small: 2147483647,
    camelCase: 'kept',
  },
  {
    id: '2',
    label: null,
    amount_minor: undefined,
    flag: false,
    at: '2026-06-01T09:00:00+02:00',
    detail: null,
    ref: null,
    small: -1,
  },
  { id: '3', label: '', detail: 'a JSON string', camelCase: null },
  { id: '4', detail: [], flag: null, label: '0', amount_minor: '0' },
];

async function read(sql: string, binding: string, extra = '') {
  return (await ctx.db.raw<{ rows: Row[] }>(`SELECT *${extra} FROM ${sql}`, [binding])).rows;
}
/** SQL NULL and the jsonb value null both reach JavaScript as null: told apart in SQL. */
const nullness = ', r.detail IS NULL AS detail_is_sql_null';

test('positional rows read back exactly as jsonb_to_recordset reads the same rows as objects', async () => {
  const recordset = new Recordset<Row>('r', definition);
  const positional = await read(recordset.sql, recordset.json(rows), nullness);
  const objects = await read(
    `jsonb_to_recordset(?::jsonb) AS r(${definition})`,
    JSON.stringify(rows),
    nullness,
  );
  expect(positional).toEqual(objects);
  expect(positional).toHaveLength(rows.length);
  expect(positional[0]!.id).toBe('9223372036854775807');
  expect(positional.map((row) => row.detail_is_sql_null)).toEqual([false, true, false, false]);
  expect(positional[2]!.detail).toBe('a JSON string');
  expect(positional[3]!.detail).toEqual([]);
  expect(positional[0]!.camelCase).toBe('kept');
});

test('dates: shared, distinct, invalid and nested ones are written as JSON.stringify writes them', () => {
  const recordset = new Recordset<Row>('r', 'at timestamptz, later timestamptz, detail jsonb');
  const shared = new Date('2026-06-01T09:00:00.123Z');
  const dated: Row[] = [
    { at: shared, later: shared, detail: { when: shared } },
    { at: new Date('2026-06-01T09:00:00.124Z'), later: shared },
    { at: new Date(Number.NaN), later: new Date(-1) },
    { at: shared, later: new Date('2026-06-01T09:00:00.123Z') },
  ];
  expect(recordset.json(dated)).toBe(
    JSON.stringify(dated.map((row) => [row.at, row.later, row.detail])),
  );
});

test('ordered: each row with its position, 1 to n in the given order', async () => {
  const recordset = new Recordset<Row>('r', 'id bigint, label text', { ordered: true });
  const read_ = await read(
    `${recordset.sql} ORDER BY r.position DESC`,
    recordset.json([{ id: '7', label: 'first' }, { id: '5', label: 'second' }, { id: '6' }]),
  );
  expect(read_).toEqual([
    { id: '6', label: null, position: '3' },
    { id: '5', label: 'second', position: '2' },
    { id: '7', label: 'first', position: '1' },
  ]);
});

test('a value its column type cannot take is refused by Postgres, as with jsonb_to_recordset', async () => {
  const recordset = new Recordset<Row>('r', 'id bigint');
  await expect(
    read(recordset.sql, recordset.json([{ id: '9223372036854775808' }])),
  ).rejects.toThrow(/out of range/);
  await expect(read(recordset.sql, recordset.json([{ id: '1.5' }]))).rejects.toThrow(
    /invalid input syntax/,
  );
});

test('a definition it cannot read is refused, naming the recordset and the column', () => {
  expect(() => new Recordset('r', 'id bigint, label')).toThrow(
    'recordset r: cannot read the column " label"',
  );
  expect(() => new Recordset('r', 'id bigint; DROP TABLE x')).toThrow('recordset r');
  // Not read by `->>` and a cast: refused rather than mis-read.
  expect(() => new Recordset('r', 'ids text[]')).toThrow('cannot read the column "ids text[]"');
  expect(() => new Recordset('r', 'doc json')).toThrow('cannot read the column "doc json"');
});
