import Decimal from 'decimal.js';
import fc from 'fast-check';
import {
  currencyDigits,
  formatAmount,
  money,
  parseAmount,
  type Money,
} from '../../../src/domain/money';
import { expectMoneyError } from './expect-money-error';

const signed = { allowZero: true, allowNegative: true };
// The oracle for exact values: decimal.js with room for every digit (its default
// precision of 20 would round a 30-digit amount).
const ExactDecimal = Decimal.clone({ precision: 100 });

describe('parseAmount', () => {
  test.each([
    ['1000.00', 'USD', 100_000n],
    ['5', 'USD', 500n],
    ['0.5', 'USD', 50n],
    ['10.01', 'EUR', 1001n],
    ['5', 'JPY', 5n],
    ['1.5', 'KWD', 1500n],
    ['1.005', 'BHD', 1005n],
    ['007.50', 'USD', 750n],
  ])('%p %s is %i minor units', (text, currency, minor) => {
    expect(parseAmount(text, currency)).toEqual(money(currency, minor));
  });

  test('reads beyond the range of a JS number exactly', () => {
    // 2^53 is 9007199254740992: a JS number would lose the last cents here.
    const text = '9007199254740993.07';
    expect(parseAmount(text, 'USD').minor).toBe(900719925474099307n);
  });

  test.each([
    ['10.001', 'USD', '3 fractional digits but USD allows 2', 'at most 2 digits after the point'],
    ['10.000', 'USD', '3 fractional digits but USD allows 2', 'at most 2 digits after the point'],
    ['5.5', 'JPY', '1 fractional digit but JPY allows 0', 'whole number'],
    ['5.0', 'JPY', 'JPY allows 0', 'without a decimal point'],
    ['1.0005', 'KWD', 'KWD allows 3', 'at most 3 digits'],
  ])('%p %s is refused with AMOUNT_PRECISION', (text, currency, rule, fix) => {
    expectMoneyError(() => parseAmount(text, currency), 'AMOUNT_PRECISION', `"${text}"`, rule, fix);
  });

  test('the precision message names the rule and the fix', () => {
    const error = expectMoneyError(() => parseAmount('10.001', 'USD'), 'AMOUNT_PRECISION');
    expect(error.message).toBe(
      'amount "10.001" has 3 fractional digits but USD allows 2 (AMOUNT_PRECISION): ' +
        'send at most 2 digits after the point',
    );
  });

  test.each(['', '1.', '.5', '+5', ' 5', '5 ', '1e3', '1,000.00', '1_000', '0x10', 'abc', '--5'])(
    '%p is refused as malformed with INVALID_AMOUNT',
    (text) => {
      expectMoneyError(() => parseAmount(text, 'USD', signed), 'INVALID_AMOUNT', 'plain decimal');
    },
  );

  test('refuses more than 18 digits as too large (a BIGINT holds 18 always), and accepts exactly 18', () => {
    const eighteen = `${'9'.repeat(16)}.99`;
    expect(parseAmount(eighteen, 'USD').minor).toBe(10n ** 18n - 1n);
    expect(10n ** 18n - 1n).toBeLessThan(2n ** 63n - 1n);
    expectMoneyError(() => parseAmount(`1${eighteen}`, 'USD'), 'INVALID_AMOUNT', 'too large');
    expectMoneyError(() => parseAmount('1'.repeat(10_000), 'USD'), 'INVALID_AMOUNT', 'too large');
  });

  test.each([
    ['99999999999999999', 'USD', 16],
    ['9999999999999999.9', 'KWD', 15],
    ['9999999999999999999', 'JPY', 18],
    ['10000000000000000', 'USD', 16],
  ])(
    '%p %s overflows 18 digits of minor units once padded: too large, naming %i digits before the point',
    (text, currency, before) => {
      expectMoneyError(
        () => parseAmount(text, currency),
        'INVALID_AMOUNT',
        'too large',
        `at most ${before} digits before the point in ${currency}`,
      );
    },
  );

  test('the largest accepted amount in each currency is 18 nines of minor units', () => {
    expect(parseAmount('9999999999999999.99', 'USD').minor).toBe(10n ** 18n - 1n);
    expect(parseAmount('999999999999999.999', 'KWD').minor).toBe(10n ** 18n - 1n);
    expect(parseAmount('999999999999999999', 'JPY').minor).toBe(10n ** 18n - 1n);
    expect(parseAmount('999999999999999', 'KWD').minor).toBe((10n ** 15n - 1n) * 1000n);
  });

  test('shortens a huge input in the message', () => {
    const error = expectMoneyError(() => parseAmount('7'.repeat(10_000), 'USD'), 'INVALID_AMOUNT');
    expect(error.message.length).toBeLessThan(200);
  });

  test('refuses zero unless allowZero', () => {
    expectMoneyError(() => parseAmount('0.00', 'USD'), 'INVALID_AMOUNT', 'zero');
    expectMoneyError(() => parseAmount('0', 'JPY'), 'INVALID_AMOUNT', 'zero');
    expect(parseAmount('0.00', 'USD', { allowZero: true })).toEqual(money('USD', 0n));
  });

  test('refuses a minus sign unless allowNegative, even on zero', () => {
    expectMoneyError(() => parseAmount('-5.00', 'USD'), 'INVALID_AMOUNT', 'negative');
    expectMoneyError(
      () => parseAmount('-0.00', 'USD', { allowZero: true }),
      'INVALID_AMOUNT',
      'negative',
    );
    expect(parseAmount('-0.05', 'USD', { allowNegative: true })).toEqual(money('USD', -5n));
    expect(parseAmount('-0', 'USD', signed)).toEqual(money('USD', 0n));
  });

  test('refuses an unknown currency before looking at the amount', () => {
    expectMoneyError(() => parseAmount('10.00', 'XYZ'), 'UNKNOWN_CURRENCY');
    expectMoneyError(() => parseAmount('not a number', 'usd'), 'UNKNOWN_CURRENCY');
  });
});

describe('formatAmount', () => {
  test.each([
    [money('USD', 100_000n), '1000.00'],
    [money('USD', 5n), '0.05'],
    [money('USD', -5n), '-0.05'],
    [money('USD', 0n), '0.00'],
    [money('JPY', 0n), '0'],
    [money('KWD', 0n), '0.000'],
    [money('CLF', 0n), '0.0000'],
    [money('USD', 0n), '0.00'],
    [money('JPY', 5n), '5'],
    [money('JPY', -1234n), '-1234'],
    [money('KWD', 1500n), '1.500'],
    [money('KWD', 1n), '0.001'],
    [money('USD', 2n ** 64n), '184467440737095516.16'],
  ])('%p is %p', (amount, text) => {
    expect(formatAmount(amount)).toBe(text);
  });
});

// Currencies with 0, 2 and 3 minor-unit digits.
const currencies = ['JPY', 'ISK', 'USD', 'EUR', 'KWD', 'BHD'] as const;
// Every amount whose canonical text fits in MAX_AMOUNT_DIGITS (18) digits.
const limit = 10n ** 18n - 1n;
const anyAmount: fc.Arbitrary<Money> = fc
  .tuple(fc.constantFrom(...currencies), fc.bigInt({ min: -limit, max: limit }))
  .map(([currency, minor]) => money(currency, minor));

describe('parse and format (properties)', () => {
  test('parseAmount reads back what formatAmount wrote', () => {
    fc.assert(
      fc.property(anyAmount, (amount) => {
        expect(parseAmount(formatAmount(amount), amount.currency, signed)).toEqual(amount);
      }),
      { numRuns: 500 },
    );
  });

  test('small amounts, where padding matters, round-trip too', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.bigInt({ min: -2000n, max: 2000n }),
        (c, m) => {
          const amount = money(c, m);
          expect(parseAmount(formatAmount(amount), c, signed)).toEqual(amount);
        },
      ),
    );
  });

  test('any accepted text has the value decimal.js gives it', () => {
    const anyText = fc
      .tuple(
        fc.constantFrom(...currencies),
        fc.boolean(),
        fc.stringMatching(/^\d{1,20}$/),
        fc.stringMatching(/^\d{0,3}$/),
      )
      .map(([currency, negative, integer, fraction]) => ({
        currency,
        text: `${negative ? '-' : ''}${integer}${fraction === '' ? '' : `.${fraction}`}`,
        fractionDigits: fraction.length,
      }));
    fc.assert(
      fc.property(anyText, ({ currency, text, fractionDigits }) => {
        const digits = currencyDigits(currency);
        if (fractionDigits > digits) {
          expectMoneyError(() => parseAmount(text, currency, signed), 'AMOUNT_PRECISION');
          return;
        }
        const expected = new ExactDecimal(text).times(new ExactDecimal(10).pow(digits));
        if (expected.abs().gte(new ExactDecimal(10).pow(18))) {
          expectMoneyError(
            () => parseAmount(text, currency, signed),
            'INVALID_AMOUNT',
            'too large',
          );
          return;
        }
        const minor = parseAmount(text, currency, signed).minor;
        expect(new ExactDecimal(minor.toString()).equals(expected)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
