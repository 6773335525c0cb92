/**
 * findCharacter names the first banned character and its position counted in
 * code points, as Postgres and zod's length count: a surrogate pair is one
 * character and a lone surrogate is one of its own, exactly as `for..of`
 * reads a string. It scans UTF-16 units itself rather than allocate through
 * the string iterator, so these pin that it counts and names what `for..of`
 * would.
 */
import fc from 'fast-check';
import { findCharacter, isControl } from '../../../src/messages/inbound';

const isNul = (codePoint: number) => codePoint === 0;
const isSurrogate = (codePoint: number) => codePoint >= 0xd800 && codePoint <= 0xdfff;
const isAstral = (codePoint: number) => codePoint > 0xffff;

/** The definition: the first banned code point of `for..of`, counted from 1. */
function reference(value: string, banned: (codePoint: number) => boolean): string | undefined {
  let position = 0;
  for (const character of value) {
    position += 1;
    const codePoint = character.codePointAt(0)!;
    if (banned(codePoint)) {
      return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at character ${position}`;
    }
  }
  return undefined;
}

test('ASCII: nothing found in printable text, and a control named at the start, middle and end', () => {
  expect(findCharacter('', isControl)).toBeUndefined();
  expect(findCharacter('order-1:m2:pay3', isControl)).toBeUndefined();
  expect(findCharacter('\u0000abc', isControl)).toBe('U+0000 at character 1');
  expect(findCharacter('ab\u0001c', isControl)).toBe('U+0001 at character 3');
  expect(findCharacter('abc\u001f', isControl)).toBe('U+001F at character 4');
  expect(findCharacter('a\tb\u0000', isControl)).toBe('U+0009 at character 2');
  expect(findCharacter('a\tb\u0000', isNul)).toBe('U+0000 at character 4');
});

test('BMP text beyond ASCII counts one character per unit: accents, CJK, DEL and C1', () => {
  expect(findCharacter('bestellung-müller\u00a0', isControl)).toBeUndefined();
  expect(findCharacter('müller\u0085', isControl)).toBe('U+0085 at character 7');
  expect(findCharacter('注文\n', isControl)).toBe('U+000A at character 3');
  expect(findCharacter('é\u007f', isControl)).toBe('U+007F at character 2');
  expect(findCharacter('\uffff\u009f', isControl)).toBe('U+009F at character 2');
});

test('an astral character (two UTF-16 units) counts once, and is named whole', () => {
  expect(findCharacter('order-🚀', isControl)).toBeUndefined();
  expect(findCharacter('🚀\u0000', isControl)).toBe('U+0000 at character 2');
  expect(findCharacter('🚀🚀x\u007f', isControl)).toBe('U+007F at character 4');
  expect(findCharacter('a\u{1F600}\u{10FFFF}b\t', isControl)).toBe('U+0009 at character 5');
  expect(findCharacter('a🚀', isAstral)).toBe('U+1F680 at character 2');
  expect(findCharacter('\u{10FFFF}', isAstral)).toBe('U+10FFFF at character 1');
  // A pair is never read as its two halves.
  expect(findCharacter('🚀', isSurrogate)).toBeUndefined();
});

test('a lone surrogate is a character of its own, wherever it stands', () => {
  expect(findCharacter('\ud800', isSurrogate)).toBe('U+D800 at character 1');
  expect(findCharacter('ab\udc00', isSurrogate)).toBe('U+DC00 at character 3');
  expect(findCharacter('a\udc00b\u0000', isControl)).toBe('U+0000 at character 4');
  // A high surrogate at the end, before a non-surrogate, or a pair in the wrong order.
  expect(findCharacter('x\ud83d', isSurrogate)).toBe('U+D83D at character 2');
  expect(findCharacter('\ud83dA\u0000', isControl)).toBe('U+0000 at character 3');
  expect(findCharacter('\ude80\ud83d\u0000', isControl)).toBe('U+0000 at character 3');
  expect(findCharacter('\ud83d\ud83d\ude80\u0000', isControl)).toBe('U+0000 at character 3');
});

test('property: the same answer as reading the string with for..of, for any text and rule', () => {
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0xa0 }).map((code) => String.fromCodePoint(code)),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('a', 'ü', '注', '🚀', '\u{10FFFF}'),
  );
  const rules = [isControl, isNul, isSurrogate, isAstral];
  fc.assert(
    fc.property(
      fc.string({ unit, maxLength: 40 }),
      fc.nat({ max: rules.length - 1 }),
      (value, rule) => {
        expect(findCharacter(value, rules[rule]!)).toBe(reference(value, rules[rule]!));
      },
    ),
    { numRuns: 2000 },
  );
});
