/**
 * Scaling refuses what it cannot compute and says how to fix it: a zero
 * divisor names itself (not the engine's bare "Division by zero"), a rate that
 * is not plain decimal text of at most 100 characters is INVALID_AMOUNT with
 * the form to write — also when it is not text at all — and a proportion of a
 * zero whole says to handle the empty case first.
 */
import { divideRoundingHalfUp, multiplyByRate, proportion } from '../../../src/domain/money';
import { usd } from '../fees/fee-fixtures';
import { expectMoneyError } from '../money/expect-money-error';

test('a zero divisor is refused by name', () => {
  expect(() => divideRoundingHalfUp(1n, 0n)).toThrow(
    new RangeError('divideRoundingHalfUp: denominator is zero'),
  );
});

test('a rate of 100 characters is read; 101 are refused with the form to write', () => {
  const longest = `0.${'0'.repeat(97)}1`;
  expect(longest).toHaveLength(100);
  expect(multiplyByRate(usd('1000.00'), longest)).toEqual({ currency: 'USD', minor: 0n });
  expectMoneyError(
    () => multiplyByRate(usd('1000.00'), `${longest}0`),
    'INVALID_AMOUNT',
    'is not a finite plain decimal',
    'write it like "0.10", at most 100 characters',
  );
});

test('a rate that is not text (null from a hand-edited row) is INVALID_AMOUNT, not a crash', () => {
  expectMoneyError(
    () => multiplyByRate(usd('1.00'), null as unknown as string),
    'INVALID_AMOUNT',
    'rate "null"',
  );
});

test('a proportion of a zero whole says to handle the empty case before scaling', () => {
  expectMoneyError(
    () => proportion(usd('10.00'), usd('1.00'), usd('0')),
    'INVALID_AMOUNT',
    'zero denominator',
    'the amount the ratio is taken of must not be zero; handle the empty case before scaling',
  );
});
