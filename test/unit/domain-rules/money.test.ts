/**
 * Money's refusals say how to do it right: minor units given as a JS number
 * (parse the text or pass a bigint), and two currencies combined (amounts
 * combine only within one currency).
 */
import { add, money, parseAmount } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';

test('minor units as a number are refused: parse the amount or pass a bigint', () => {
  expectMoneyError(
    () => money('USD', 100 as unknown as bigint),
    'INVALID_AMOUNT',
    'minor units must be a bigint, got number',
    'parse the amount with parseAmount or pass BigInt(...)',
  );
});

test('two currencies combined are refused naming both and the currency to use', () => {
  expectMoneyError(
    () => add(money('USD', 1n), money('EUR', 1n)),
    'CURRENCY_MISMATCH',
    'cannot add USD and EUR',
    'amounts combine only within one currency; use the currency the milestone was funded in',
  );
});

test('a refused input is shown whole up to 40 characters, shortened beyond', () => {
  const forty = 'x'.repeat(40);
  expectMoneyError(() => parseAmount(forty, 'USD'), 'INVALID_AMOUNT', `amount "${forty}" is`);
  expectMoneyError(
    () => parseAmount(`${forty}y`, 'USD'),
    'INVALID_AMOUNT',
    `amount "${forty}…" is`,
  );
});
