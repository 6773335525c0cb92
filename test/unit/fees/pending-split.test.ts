import { pendingSplit, type PendingSplit } from '../../../src/domain/fees';
import { formatAmount } from '../../../src/domain/money';
import { policyWith, usd } from './fee-fixtures';

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
