import fc from 'fast-check';
import { compareCodePoints } from '../../../src/domain/text/code-point-order';

const codePointsOf = (value: string) => [...value].map((character) => character.codePointAt(0)!);
function byCodePointArrays(left: string, right: string): number {
  const a = codePointsOf(left);
  const b = codePointsOf(right);
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! - b[index]!;
  }
  return a.length - b.length;
}

test('a character above U+FFFF sorts after one in U+E000-U+FFFF, unlike UTF-16 order', () => {
  const astral = 'm-\u{1F600}';
  const highBasic = 'm-\uFF01';
  expect(astral < highBasic).toBe(true); // JavaScript's own comparison: by UTF-16 units
  expect(Math.sign(compareCodePoints(astral, highBasic))).toBe(1);
  expect(Math.sign(compareCodePoints(highBasic, astral))).toBe(-1);
  expect([astral, highBasic, 'm-a', 'm-'].sort(compareCodePoints)).toEqual([
    'm-',
    'm-a',
    highBasic,
    astral,
  ]);
});

test('it agrees in sign with comparing the strings code point by code point', () => {
  const character = fc.oneof(
    fc.constantFrom('a', 'z', '\uD7FF', '\uE000', '\uFF01', '\uFFFF', '\u{10000}', '\u{1F600}'),
    fc.string({ unit: 'binary', maxLength: 1 }),
  );
  const text = fc.array(character, { maxLength: 6 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, text, (left, right) => {
      expect(Math.sign(compareCodePoints(left, right))).toBe(
        Math.sign(byCodePointArrays(left, right)),
      );
    }),
    { numRuns: 2000 },
  );
});
