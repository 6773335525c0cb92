import fc from 'fast-check';
import {
  add,
  compare,
  isNegative,
  isPositive,
  isZero,
  max,
  min,
  money,
  negate,
  subtract,
  sum,
  zero,
} from '../../../src/domain/money';
import { expectMoneyError } from './expect-money-error';

const usd = (minor: bigint) => money('USD', minor);
const anyMinor = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n });

describe('money', () => {
  test('is a frozen pair of currency and bigint minor units', () => {
    const amount = money('USD', 100_000n);
    expect(amount).toEqual({ currency: 'USD', minor: 100_000n });
    expect(Object.isFrozen(amount)).toBe(true);
  });

  test('refuses an unknown currency', () => {
    expectMoneyError(() => money('XYZ', 1n), 'UNKNOWN_CURRENCY');
  });

  test('refuses a JS number where minor units belong', () => {
    expectMoneyError(() => money('USD', 100 as unknown as bigint), 'INVALID_AMOUNT', 'bigint');
  });

  test('zero is zero in its currency', () => {
    expect(zero('JPY')).toEqual({ currency: 'JPY', minor: 0n });
  });
});

describe('arithmetic', () => {
  test('adds, subtracts and negates exactly, beyond 2^53', () => {
    const big = usd(2n ** 60n + 1n);
    expect(add(big, usd(1n)).minor).toBe(2n ** 60n + 2n);
    expect(subtract(usd(5n), usd(7n))).toEqual(usd(-2n));
    expect(negate(usd(5n))).toEqual(usd(-5n));
  });

  test('compares, and tells sign', () => {
    expect(compare(usd(1n), usd(2n))).toBe(-1);
    expect(compare(usd(2n), usd(2n))).toBe(0);
    expect(compare(usd(3n), usd(2n))).toBe(1);
    expect([isZero(usd(0n)), isZero(usd(1n))]).toEqual([true, false]);
    expect([isNegative(usd(-1n)), isNegative(usd(0n))]).toEqual([true, false]);
    expect([isPositive(usd(1n)), isPositive(usd(0n))]).toEqual([true, false]);
  });

  test('min and max pick by value, the first of two equals', () => {
    expect(min(usd(3n), usd(-4n))).toEqual(usd(-4n));
    expect(max(usd(3n), usd(-4n))).toEqual(usd(3n));
    const first = usd(7n);
    expect(min(first, usd(7n))).toBe(first);
    expect(max(first, usd(7n))).toBe(first);
  });

  test('sum of a list, and of an empty list', () => {
    expect(sum('USD', [usd(1n), usd(2n), usd(-10n)])).toEqual(usd(-7n));
    expect(sum('EUR', [])).toEqual(money('EUR', 0n));
  });

  test.each([
    ['add', () => add(usd(1n), money('EUR', 1n))],
    ['subtract', () => subtract(usd(1n), money('EUR', 1n))],
    ['compare', () => compare(usd(1n), money('EUR', 1n))],
    ['take the smaller of', () => min(usd(1n), money('EUR', 1n))],
    ['take the larger of', () => max(usd(1n), money('EUR', 1n))],
    ['sum', () => sum('USD', [usd(1n), money('EUR', 1n)])],
  ])('%s refuses two currencies with CURRENCY_MISMATCH', (operation, action) => {
    const error = expectMoneyError(action, 'CURRENCY_MISMATCH', 'USD', 'EUR');
    expect(error.message).toContain(`cannot ${operation}`);
  });

  test('a MoneyError is an Error with a name for the logs', () => {
    const error = expectMoneyError(() => add(usd(1n), money('EUR', 1n)), 'CURRENCY_MISMATCH');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MoneyError');
  });

  test('subtract undoes add, and add undoes subtract (property)', () => {
    fc.assert(
      fc.property(anyMinor, anyMinor, (a, b) => {
        expect(subtract(add(usd(a), usd(b)), usd(b))).toEqual(usd(a));
        expect(add(subtract(usd(a), usd(b)), usd(b))).toEqual(usd(a));
        expect(add(usd(a), negate(usd(a)))).toEqual(usd(0n));
      }),
    );
  });

  test('compare is antisymmetric and agrees with subtraction (property)', () => {
    fc.assert(
      fc.property(anyMinor, anyMinor, (a, b) => {
        const order = compare(usd(a), usd(b));
        expect(compare(usd(b), usd(a)) + order).toBe(0);
        const difference = subtract(usd(a), usd(b));
        const expected = isPositive(difference) ? 1 : isNegative(difference) ? -1 : 0;
        expect(order).toBe(expected);
      }),
    );
  });
});
