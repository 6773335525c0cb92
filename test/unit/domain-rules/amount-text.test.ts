/**
 * The wire form of amounts (CONTRACT.md: decimal strings in major units,
 * never floats): what parseAmount refuses and the fix it gives, that the
 * text itself may carry no more than 18 digits (leading zeros included), that
 * a text longer than any amount is refused before its shape is read, and that
 * zero is written without a sign.
 */
import { formatAmount, parseAmount, zero } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';

test('a number instead of text is not a plain decimal, with the form to write', () => {
  for (const value of [1000, null]) {
    expectMoneyError(
      () => parseAmount(value as unknown as string, 'USD'),
      'INVALID_AMOUNT',
      'is not a plain decimal',
      'write major units with an optional "-" and "." only, such as "1000.00", ' +
        'with no exponent, spaces, "+" or thousands separators',
    );
  }
});

test('more than 18 digits in the text is too large, even as leading zeros of a small value', () => {
  for (const text of ['0000000000000000001', '00000000000000000.01']) {
    expectMoneyError(() => parseAmount(text, 'USD'), 'INVALID_AMOUNT', 'is too large');
  }
  expect(parseAmount('000000000000000001', 'USD')).toEqual({ currency: 'USD', minor: 100n });
});

test('a text longer than any amount is refused as too large before its shape is read', () => {
  const junk = 'x'.repeat(10_000);
  expectMoneyError(
    () => parseAmount(junk, 'USD'),
    'INVALID_AMOUNT',
    `amount "${'x'.repeat(40)}…" is too large`,
    'send at most 16 digits before the point in USD',
  );
});

test('a negative amount says the direction comes from the event type, not the sign', () => {
  expectMoneyError(
    () => parseAmount('-5.00', 'USD'),
    'INVALID_AMOUNT',
    'amount "-5.00" is negative',
    'the direction of a movement is given by the event type, not the sign',
  );
});

test('zero is written without a sign', () => {
  expect(formatAmount(zero('USD'))).toBe('0.00');
  expect(formatAmount(zero('JPY'))).toBe('0');
});
