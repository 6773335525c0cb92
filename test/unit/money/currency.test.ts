import {
  assertCurrency,
  currencyDigits,
  isKnownCurrency,
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

  test('refuses a code that is not on ISO 4217 List One', () => {
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

  test('is true for the ISO codes Intl does not list: funds, metals, testing, no currency', () => {
    for (const code of ['CLF', 'UYW', 'BOV', 'XAU', 'XDR', 'XTS', 'XXX']) {
      expect(isKnownCurrency(code)).toBe(true);
    }
  });

  test.each([
    'XYZ',
    'usd',
    'Usd',
    'US',
    'USDD',
    '',
    ' USD',
    'HRK',
    'SLL',
    'ZWL',
    'constructor',
    '__proto__',
  ])('is false for %p (withdrawn codes and inherited property names included)', (code) => {
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

describe('ISO 4217 minor units, not CLDR display digits', () => {
  test.each([
    ['AFN', 2],
    ['HUF', 2],
    ['IDR', 2],
    ['COP', 2],
    ['PKR', 2],
    ['IQD', 3],
    ['CLF', 4],
    ['UYW', 4],
    ['XAU', 0],
    ['XXX', 0],
  ])('%s has %i digits, as gateways settle it', (code, digits) => {
    expect(currencyDigits(code)).toBe(digits);
  });

  test('an amount with cents in HUF and AFN is accepted, four decimals in CLF', () => {
    expect(parseAmount('100.50', 'HUF').minor).toBe(10050n);
    expect(parseAmount('100.50', 'AFN').minor).toBe(10050n);
    expect(parseAmount('1.2345', 'CLF').minor).toBe(12345n);
  });
});
