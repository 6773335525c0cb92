/**
 * The order the code sorts ids in is the order Postgres's "C" collation
 * gives them, which every query that orders ids uses: orders, milestones and
 * accounts are locked and written in one order on both sides.
 */
import fc from 'fast-check';
import { compareCodePoints } from '../../src/domain/text/code-point-order';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

test('random ids sort the same in code and in Postgres ORDER BY ... COLLATE "C"', async () => {
  const character = fc.constantFrom(
    'a',
    'B',
    '-',
    ':',
    '\u00e9',
    '\uFF01',
    '\uFFFD',
    '\u{1F600}',
    '\u{10FFFD}',
  );
  const ids = fc.sample(
    fc.array(character, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
    { numRuns: 300, seed: 7 },
  );
  const { rows } = await ctx.db.raw<{ rows: { id: string }[] }>(
    'SELECT id FROM unnest(?::text[]) AS ids(id) ORDER BY id COLLATE "C"',
    [ids],
  );
  expect(rows.map((row) => row.id)).toEqual([...ids].sort(compareCodePoints));
});
