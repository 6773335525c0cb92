import {
  assertCurrency,
  currencyDigits,
  isKnownCurrency,
  isoMinorUnitsWhereCldrDiffers,
  parseAmount,
} from '../../../src/domain/money';
import { expectMoneyError } from './expect-money-error';

describe('currencyDigits', () => {
  test.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KWD', 3],
    ['BHD', 3],
  ])('%s has %i minor-unit digits', (code, digits) => {
    expect(currencyDigits(code)).toBe(digits);
    // The second call is served from the cache and must agree.
    expect(currencyDigits(code)).toBe(digits);
  });

  test('refuses a code Intl would format but does not list', () => {
    // Intl.NumberFormat accepts "XYZ" and answers 2 digits; that must not leak through.
    expectMoneyError(() => currencyDigits('XYZ'), 'UNKNOWN_CURRENCY', '"XYZ"');
  });
});

describe('isKnownCurrency', () => {
  test('is true for ISO 4217 codes in circulation', () => {
    for (const code of ['USD', 'EUR', 'JPY', 'KWD', 'BHD', 'GBP']) {
      expect(isKnownCurrency(code)).toBe(true);
    }
  });

  test.each(['XYZ', 'usd', 'Usd', 'US', 'USDD', '', ' USD', 'XXX'])('is false for %p', (code) => {
    expect(isKnownCurrency(code)).toBe(false);
  });
});

describe('assertCurrency', () => {
  test('passes a known code', () => {
    expect(() => assertCurrency('USD')).not.toThrow();
  });

  test('names the code and the fix for an unknown one', () => {
    expectMoneyError(() => assertCurrency('usd'), 'UNKNOWN_CURRENCY', '"usd"', 'upper-case');
  });

  test('refuses a value that is not a string at all', () => {
    expectMoneyError(() => assertCurrency(840 as unknown as string), 'UNKNOWN_CURRENCY', '840');
  });
});

describe('ISO 4217 minor units where CLDR display digits differ', () => {
  test.each([
    ['HUF', 2],
    ['IDR', 2],
    ['COP', 2],
    ['PKR', 2],
    ['IQD', 3],
  ])('%s has %i digits, as gateways settle it', (code, digits) => {
    expect(currencyDigits(code)).toBe(digits);
  });

  test('every override is a currency the runtime knows and really differs from CLDR', () => {
    for (const [code, digits] of Object.entries(isoMinorUnitsWhereCldrDiffers)) {
      expect(isKnownCurrency(code)).toBe(true);
      const cldr = new Intl.NumberFormat('en', {
        style: 'currency',
        currency: code,
      }).resolvedOptions().maximumFractionDigits;
      expect({ code, differs: cldr !== digits }).toEqual({ code, differs: true });
    }
  });

  test('an amount with cents in HUF is accepted', () => {
    expect(parseAmount('100.50', 'HUF').minor).toBe(10050n);
  });
});
