import { pendingAfterRefund, pendingSplit, type PendingSplit } from '../../../src/domain/fees';
import { formatAmount, money } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';
import { amount, policyWith, usd } from './fee-fixtures';

const shown = (split: PendingSplit) =>
  [split.held, split.pendingFee, split.pendingEarnings].map(formatAmount);

describe('pendingSplit', () => {
  test('is what a release of everything held would pay now', () => {
    const split = pendingSplit(usd('1000.00'), policyWith(), usd('0'));
    expect(shown(split)).toEqual(['1000.00', '100.00', '900.00']);
  });

  test('follows tiers and minimums like a release', () => {
    const policy = policyWith({
      minimumFees: { USD: '1.00' },
      volumeTiers: [{ minVolume: '500.00', rate: '0.05' }],
    });
    expect(shown(pendingSplit(usd('1000.00'), policy, usd('500.00')))).toEqual([
      '1000.00',
      '50.00',
      '950.00',
    ]);
    expect(shown(pendingSplit(usd('5.00'), policy, usd('0')))).toEqual(['5.00', '1.00', '4.00']);
  });
});

describe('pendingAfterRefund', () => {
  const milestone = pendingSplit(usd('1000.00'), policyWith(), usd('0'));

  test('the contract example: refunding 500.00 of 1000.00 at 10 % leaves 50.00 and 450.00', () => {
    expect(shown(pendingAfterRefund(milestone, usd('500.00')))).toEqual([
      '500.00',
      '50.00',
      '450.00',
    ]);
  });

  test('successive refunds shrink the split step by step', () => {
    const once = pendingAfterRefund(milestone, usd('500.00'));
    expect(shown(pendingAfterRefund(once, usd('450.00')))).toEqual(['50.00', '5.00', '45.00']);
  });

  test('rounds the shrunk fee half-up and gives the provider the rest', () => {
    // 0.03 at 0.5: fee 0.015 → 0.02. After 0.01 back: 0.02 × 0.02 / 0.03 = 0.0133 → 0.01.
    const small = pendingSplit(usd('0.03'), policyWith({ rate: '0.5' }), usd('0'));
    expect(shown(small)).toEqual(['0.03', '0.02', '0.01']);
    expect(shown(pendingAfterRefund(small, usd('0.01')))).toEqual(['0.02', '0.01', '0.01']);
    // 3 JPY at 0.5: fee 1.5 → 2. After 1 back: 2 × 2 / 3 = 1.33 → 1.
    const yen = pendingSplit(amount('3', 'JPY'), policyWith({ rate: '0.5' }), amount('0', 'JPY'));
    expect(shown(pendingAfterRefund(yen, amount('1', 'JPY')))).toEqual(['2', '1', '1']);
  });

  test('shrinks a minimum fee proportionally too, as the contract says', () => {
    const policy = policyWith({ minimumFees: { USD: '1.00' } });
    const split = pendingSplit(usd('5.00'), policy, usd('0'));
    expect(shown(pendingAfterRefund(split, usd('2.50')))).toEqual(['2.50', '0.50', '2.00']);
  });

  test('a full refund leaves nothing pending; a zero refund changes nothing', () => {
    const emptied = pendingAfterRefund(milestone, usd('1000.00'));
    expect(shown(emptied)).toEqual(['0.00', '0.00', '0.00']);
    expect(shown(pendingAfterRefund(emptied, usd('0')))).toEqual(['0.00', '0.00', '0.00']);
    expect(shown(pendingAfterRefund(milestone, usd('0')))).toEqual(shown(milestone));
  });

  test('refuses a refund above what is held', () => {
    expectMoneyError(
      () => pendingAfterRefund(milestone, usd('1000.01')),
      'INVALID_AMOUNT',
      'at most what is held',
    );
  });

  test('refuses a negative refund', () => {
    expectMoneyError(
      () => pendingAfterRefund(milestone, money('USD', -1n)),
      'INVALID_AMOUNT',
      'zero or more',
    );
  });

  test('refuses a refund in another currency', () => {
    expectMoneyError(
      () => pendingAfterRefund(milestone, amount('5', 'JPY')),
      'CURRENCY_MISMATCH',
      'JPY',
    );
  });

  test('refuses a split that does not add up, rather than carrying the error on', () => {
    const broken = { held: usd('10.00'), pendingFee: usd('1.00'), pendingEarnings: usd('8.00') };
    expectMoneyError(() => pendingAfterRefund(broken, usd('1.00')), 'INVALID_AMOUNT', 'add up');
    const negativeFee = {
      held: usd('10.00'),
      pendingFee: money('USD', -100n),
      pendingEarnings: usd('11.00'),
    };
    expectMoneyError(() => pendingAfterRefund(negativeFee, usd('1.00')), 'INVALID_AMOUNT');
  });
});
