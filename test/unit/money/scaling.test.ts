import Decimal from 'decimal.js';
import fc from 'fast-check';
import {
  divideRoundingHalfUp,
  formatAmount,
  money,
  multiplyByRate,
  negate,
  parseAmount,
  proportion,
} from '../../../src/domain/money';
import { expectMoneyError } from './expect-money-error';

const amount = (text: string, currency: string) =>
  parseAmount(text, currency, { allowZero: true, allowNegative: true });

describe('multiplyByRate: half-up to the minor unit, worked by hand', () => {
  test.each([
    ['1000.00', 'USD', '0.10', '100.00'],
    ['0.05', 'USD', '0.10', '0.01'], // 0.005 is a tie: up
    ['0.04', 'USD', '0.10', '0.00'], // 0.004: down
    ['0.15', 'USD', '0.10', '0.02'], // 0.015: up
    ['0.14', 'USD', '0.10', '0.01'], // 0.014: down
    ['333', 'JPY', '0.10', '33'], // 33.3: down
    ['335', 'JPY', '0.10', '34'], // 33.5: up
    ['1.005', 'KWD', '0.5', '0.503'], // 0.5025: up
    ['1.005', 'KWD', '0.4', '0.402'], // 0.402 exact
    ['999.99', 'USD', '0.125', '125.00'], // 124.99875: up
    ['1000.00', 'USD', '0', '0.00'],
    ['1000.00', 'USD', '1', '1000.00'],
    ['-0.05', 'USD', '0.10', '-0.01'], // a negative tie goes away from zero
    ['-0.04', 'USD', '0.10', '0.00'],
  ])('%s %s × %s = %s', (text, currency, rate, expected) => {
    expect(formatAmount(multiplyByRate(amount(text, currency), rate))).toBe(expected);
  });

  test('takes the rate as a Decimal too, reading all its digits', () => {
    const fee = multiplyByRate(amount('1000.00', 'USD'), new Decimal('0.1'));
    expect(formatAmount(fee)).toBe('100.00');
    // 30 significant digits, more than decimal.js's default precision of 20.
    const fine = new Decimal('0.100000000000000000000000000005');
    expect(multiplyByRate(money('USD', 10n ** 29n), fine).minor).toBe(10n ** 28n + 1n);
  });

  test.each(['1e-1', '0,10', ' 0.10', '+0.10', '.1', 'NaN', 'Infinity', '', '1'.repeat(101)])(
    'refuses the rate %p with INVALID_AMOUNT',
    (rate) => {
      expectMoneyError(() => multiplyByRate(money('USD', 100n), rate), 'INVALID_AMOUNT', 'rate');
    },
  );

  test('refuses a non-finite Decimal rate', () => {
    const rate = new Decimal(Infinity);
    expectMoneyError(() => multiplyByRate(money('USD', 100n), rate), 'INVALID_AMOUNT', 'rate');
  });

  test('agrees with decimal.js ROUND_HALF_UP at ample precision (property)', () => {
    const Oracle = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_UP });
    const anyRate = fc
      .tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 12 }))
      .map(([digits, scale]) => new Oracle(digits.toString()).dividedBy(10 ** scale).toFixed());
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), anyRate, (minor, rate) => {
        const expected = new Oracle(minor.toString()).times(rate).toDecimalPlaces(0);
        const actual = multiplyByRate(money('USD', minor), rate).minor;
        expect(actual.toString()).toBe(expected.toFixed());
        // Half away from zero is symmetric, so a reversal's fee is the negated fee.
        expect(multiplyByRate(negate(money('USD', minor)), rate).minor).toBe(-actual);
      }),
      { numRuns: 500 },
    );
  });
});

describe('proportion', () => {
  test('a partial refund shrinks the pending fee: 100.00 × 500.00 / 1000.00 = 50.00', () => {
    const fee = amount('100.00', 'USD');
    const remaining = proportion(fee, amount('500.00', 'USD'), amount('1000.00', 'USD'));
    expect(formatAmount(remaining)).toBe('50.00');
  });

  test.each([
    ['0.01', '1.00', '2.00', '0.01'], // 0.005: up
    ['1.00', '1.00', '3.00', '0.33'], // 0.333...: down
    ['2.00', '1.00', '3.00', '0.67'], // 0.666...: up
    ['100.00', '0.00', '1000.00', '0.00'],
    ['0.01', '-1.00', '2.00', '-0.01'], // -0.005: away from zero
  ])('%s × %s / %s = %s', (base, numerator, denominator, expected) => {
    const scaled = proportion(
      amount(base, 'USD'),
      amount(numerator, 'USD'),
      amount(denominator, 'USD'),
    );
    expect(formatAmount(scaled)).toBe(expected);
  });

  test('refuses a zero denominator with INVALID_AMOUNT', () => {
    const usd = (minor: bigint) => money('USD', minor);
    expectMoneyError(() => proportion(usd(100n), usd(1n), usd(0n)), 'INVALID_AMOUNT', 'zero');
  });

  test('refuses a ratio in another currency with CURRENCY_MISMATCH', () => {
    const base = money('USD', 100n);
    expectMoneyError(
      () => proportion(base, money('EUR', 1n), money('USD', 2n)),
      'CURRENCY_MISMATCH',
      'EUR',
    );
    expectMoneyError(
      () => proportion(base, money('USD', 1n), money('EUR', 2n)),
      'CURRENCY_MISMATCH',
      'EUR',
    );
  });
});

describe('divideRoundingHalfUp', () => {
  test.each([
    [5n, 2n, 3n],
    [-5n, 2n, -3n],
    [5n, -2n, -3n],
    [-5n, -2n, 3n],
    [4n, 3n, 1n],
    [5n, 3n, 2n],
    [0n, 7n, 0n],
  ])('%i / %i = %i', (numerator, denominator, expected) => {
    expect(divideRoundingHalfUp(numerator, denominator)).toBe(expected);
  });

  test('refuses a zero denominator', () => {
    expect(() => divideRoundingHalfUp(1n, 0n)).toThrow(RangeError);
  });
});
