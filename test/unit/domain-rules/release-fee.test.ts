/**
 * computeReleaseFee refuses what no release can be, and says what it got and
 * what to do: a negative gross (reverse a release with a correcting
 * transaction instead) and a provider volume in another currency than the
 * release (volume tiers count the release currency only).
 */
import { computeReleaseFee } from '../../../src/domain/fees';
import { money } from '../../../src/domain/money';
import { amount, policyWith, usd } from '../fees/fee-fixtures';
import { expectMoneyError } from '../money/expect-money-error';

test('a negative gross names the amount and the correcting transaction to use instead', () => {
  expectMoneyError(
    () => computeReleaseFee(money('USD', -150n), policyWith(), usd('0')),
    'INVALID_AMOUNT',
    'release of -1.50 USD is negative',
    'reverse a release with a correcting transaction',
  );
});

test('a provider volume in another currency names both currencies', () => {
  expectMoneyError(
    () => computeReleaseFee(usd('1.00'), policyWith(), amount('0', 'EUR')),
    'CURRENCY_MISMATCH',
    'release in USD with a provider volume in EUR',
    'volume tiers count the released volume in the release currency only',
  );
});
