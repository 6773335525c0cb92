/**
 * The worker's connections read BIGINT as the text Postgres wrote
 * (src/db/knex.ts, pgTypeParsers) instead of through pg's int8 parser. The
 * values must be exactly what pg's default parsers give, for every type the
 * worker reads: checked against a plain pg client on the same rows.
 */
import { Client } from 'pg';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

const probe = `
  SELECT v.i8, v.i8 / -2 AS halved, ARRAY[v.i8, NULL] AS i8s, v.i8::numeric * 10 AS n,
    length(v.i8::text)::integer AS i4, v.i8::text AS t, (v.i8 % 2 = 0) AS b,
    jsonb_build_object('i8', v.i8) AS j, timestamptz '2026-12-07T10:00:00.123Z' AS ts
  FROM (VALUES (0::bigint), (1), (-1), (9223372036854775807), (-9223372036854775808),
    (9007199254740993), (NULL)) AS v(i8)`;

describe('BIGINT read as text', () => {
  it('gives the values pg’s default parsers give, at the edges of BIGINT', async () => {
    const { rows: ours } = await ctx.db.raw<{ rows: Record<string, unknown>[] }>(probe);
    const plain = new Client({ connectionString: ctx.config.DATABASE_URL });
    await plain.connect();
    try {
      const { rows: theirs } = await plain.query(probe);
      expect(ours).toEqual(theirs);
    } finally {
      await plain.end();
    }
    // And they are strings, never numbers: 2^53 + 1 survives.
    expect(ours.map((row) => row.i8)).toEqual([
      '0',
      '1',
      '-1',
      '9223372036854775807',
      '-9223372036854775808',
      '9007199254740993',
      null,
    ]);
  });
});
