import { computeDisputeResolutionFee } from '../../../src/domain/fees';
import { formatAmount } from '../../../src/domain/money';
import { amount, policyWith, usd } from './fee-fixtures';

const policy = policyWith({
  minimumFees: { USD: '1.00' },
  disputeFees: { USD: '15.00' },
  volumeTiers: [{ minVolume: '10000.00', rate: '0.08' }],
});

const summary = (result: ReturnType<typeof computeDisputeResolutionFee>) =>
  [result.gross, result.fee, result.disputeFee, result.net].map(formatAmount);

describe('computeDisputeResolutionFee', () => {
  test('adds the dispute fee to the release fee, both from the provider part', () => {
    const result = computeDisputeResolutionFee(usd('600.00'), policy, usd('0'));
    // gross, total fee (60.00 release + 15.00 dispute), dispute part, net
    expect(summary(result)).toEqual(['600.00', '75.00', '15.00', '525.00']);
    expect([result.rateApplied, result.minimumApplied, result.policyId]).toEqual([
      '0.10',
      false,
      1,
    ]);
  });

  test('the release part still follows the tiers', () => {
    const result = computeDisputeResolutionFee(usd('600.00'), policy, usd('10000.00'));
    expect(summary(result)).toEqual(['600.00', '63.00', '15.00', '537.00']);
    expect(result.tierApplied).toEqual({ minVolume: '10000.00', rate: '0.08' });
  });

  test('is zero where the policy sets no dispute fee for the currency', () => {
    const result = computeDisputeResolutionFee(amount('600', 'JPY'), policy, amount('0', 'JPY'));
    expect(summary(result)).toEqual(['600', '60', '0', '540']);
  });

  test('is cut to what the release fee leaves, so the total never passes the provider part', () => {
    const result = computeDisputeResolutionFee(usd('10.00'), policy, usd('0'));
    expect(summary(result)).toEqual(['10.00', '10.00', '9.00', '0.00']);
  });

  test('leaves nothing for a dispute fee when the minimum took the whole part', () => {
    const result = computeDisputeResolutionFee(usd('0.50'), policy, usd('0'));
    expect(summary(result)).toEqual(['0.50', '0.50', '0.00', '0.00']);
    expect(result.minimumApplied).toBe(true);
  });

  test('a zero provider part (all refunded to the buyer) pays no fee at all', () => {
    const result = computeDisputeResolutionFee(usd('0'), policy, usd('0'));
    expect(summary(result)).toEqual(['0.00', '0.00', '0.00', '0.00']);
    expect(result.minimumApplied).toBe(false);
  });
});
