/**
 * A currency is an upper-case alphabetic ISO 4217 code given as text: a value
 * that only turns into a known code when converted to text (a list holding
 * one, as a hand-edited JSON field might) is not a currency.
 */
import { assertCurrency, isKnownCurrency } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';

test('a list holding a known code is not a currency', () => {
  const listed = ['USD'] as unknown as string;
  expect(isKnownCurrency('USD')).toBe(true);
  expect(isKnownCurrency(listed)).toBe(false);
  expectMoneyError(() => assertCurrency(listed), 'UNKNOWN_CURRENCY', 'is not an ISO 4217 code');
});
