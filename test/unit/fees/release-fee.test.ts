import { computeReleaseFee, type VolumeTier } from '../../../src/domain/fees';
import { formatAmount, money, type Money } from '../../../src/domain/money';
import { expectMoneyError } from '../money/expect-money-error';
import { amount, expectFeePolicyError, policyWith, usd } from './fee-fixtures';

const shown = (value: Money) => formatAmount(value);
const noVolume = (currency: string) => amount('0', currency);

describe('computeReleaseFee: the rate, half-up to the minor unit', () => {
  test('1000.00 USD at 0.10 pays 100.00 and nets 900.00', () => {
    const policy = policyWith({ policyId: 7 });
    expect(computeReleaseFee(usd('1000.00'), policy, usd('0'))).toEqual({
      gross: usd('1000.00'),
      fee: usd('100.00'),
      net: usd('900.00'),
      rateApplied: '0.10',
      tierApplied: null,
      minimumApplied: false,
      policyId: 7,
    });
  });

  test.each([
    ['0.05', 'USD', '0.10', '0.01', '0.04'], // 0.005 is a tie: up
    ['0.04', 'USD', '0.10', '0.00', '0.04'], // 0.004: down
    ['333', 'JPY', '0.10', '33', '300'], // 33.3: down
    ['335', 'JPY', '0.10', '34', '301'], // 33.5: up
    ['1.005', 'KWD', '0.5', '0.503', '0.502'], // 0.5025: up
    ['999.99', 'USD', '0.125', '125.00', '874.99'], // 124.99875: up
    ['1000.00', 'USD', '0', '0.00', '1000.00'],
  ])('%s %s at %s pays %s and nets %s', (gross, currency, rate, fee, net) => {
    const result = computeReleaseFee(
      amount(gross, currency),
      policyWith({ rate }),
      noVolume(currency),
    );
    expect([shown(result.fee), shown(result.net)]).toEqual([fee, net]);
    expect(result.fee.currency).toBe(currency);
    expect(result.rateApplied).toBe(rate);
  });

  test('the result is frozen: a fee once computed is a record, not a draft', () => {
    expect(Object.isFrozen(computeReleaseFee(usd('10.00'), policyWith(), usd('0')))).toBe(true);
  });
});

describe('computeReleaseFee: volume tiers', () => {
  const silver: VolumeTier = { minVolume: '10000.00', rate: '0.08' };
  const gold: VolumeTier = { minVolume: '50000.00', rate: '0.05' };
  const policy = policyWith({ volumeTiers: [silver, gold] });

  test.each([
    ['0', '0.10', null, '100.00'],
    ['9999.99', '0.10', null, '100.00'],
    ['10000.00', '0.08', silver, '80.00'], // exactly at the threshold: the tier applies
    ['49999.99', '0.08', silver, '80.00'],
    ['50000.00', '0.05', gold, '50.00'],
    ['1000000.00', '0.05', gold, '50.00'], // above the highest tier: the highest tier
  ])('volume %s applies rate %s', (volume, rate, tier, fee) => {
    const result = computeReleaseFee(usd('1000.00'), policy, usd(volume));
    expect(result.rateApplied).toBe(rate);
    expect(result.tierApplied).toEqual(tier);
    expect(shown(result.fee)).toBe(fee);
  });

  test('compares a threshold finer than the currency exactly', () => {
    const finePolicy = policyWith({ volumeTiers: [{ minVolume: '10000.5', rate: '0.05' }] });
    const below = computeReleaseFee(amount('1000', 'JPY'), finePolicy, amount('10000', 'JPY'));
    const above = computeReleaseFee(amount('1000', 'JPY'), finePolicy, amount('10001', 'JPY'));
    expect([below.rateApplied, above.rateApplied]).toEqual(['0.10', '0.05']);
  });
});

describe('computeReleaseFee: the minimum fee', () => {
  const policy = policyWith({ minimumFees: { USD: '1.00' } });

  test('replaces a rate-based fee below it', () => {
    const result = computeReleaseFee(usd('5.00'), policy, usd('0'));
    expect([shown(result.fee), shown(result.net), result.minimumApplied]).toEqual([
      '1.00',
      '4.00',
      true,
    ]);
  });

  test('is capped at the gross, leaving the provider zero, never less', () => {
    const result = computeReleaseFee(usd('0.50'), policy, usd('0'));
    expect([shown(result.fee), shown(result.net), result.minimumApplied]).toEqual([
      '0.50',
      '0.00',
      true,
    ]);
  });

  test('does not apply when the rate-based fee reaches it', () => {
    const atMinimum = computeReleaseFee(usd('10.00'), policy, usd('0'));
    const above = computeReleaseFee(usd('100.00'), policy, usd('0'));
    expect([shown(atMinimum.fee), atMinimum.minimumApplied]).toEqual(['1.00', false]);
    expect([shown(above.fee), above.minimumApplied]).toEqual(['10.00', false]);
  });

  test('applies only in its own currency', () => {
    const result = computeReleaseFee(amount('5', 'JPY'), policy, amount('0', 'JPY'));
    expect([shown(result.fee), result.minimumApplied]).toEqual(['1', false]);
  });

  test('applies over a tier rate too', () => {
    const tiered = policyWith({
      minimumFees: { USD: '1.00' },
      volumeTiers: [{ minVolume: '1.00', rate: '0' }],
    });
    const result = computeReleaseFee(usd('50.00'), tiered, usd('5.00'));
    expect([shown(result.fee), result.rateApplied, result.minimumApplied]).toEqual([
      '1.00',
      '0',
      true,
    ]);
  });

  test('a zero release pays nothing, minimum or not', () => {
    const result = computeReleaseFee(usd('0'), policy, usd('0'));
    expect([shown(result.fee), shown(result.net), result.minimumApplied]).toEqual([
      '0.00',
      '0.00',
      false,
    ]);
  });
});

describe('computeReleaseFee: refusals', () => {
  test('a negative gross', () => {
    const negative = money('USD', -100n);
    expectMoneyError(
      () => computeReleaseFee(negative, policyWith(), usd('0')),
      'INVALID_AMOUNT',
      'negative',
    );
  });

  test('a provider volume in another currency', () => {
    expectMoneyError(
      () => computeReleaseFee(usd('1.00'), policyWith(), amount('0', 'EUR')),
      'CURRENCY_MISMATCH',
      'volume',
    );
  });

  test('a negative provider volume', () => {
    const negative = money('USD', -1n);
    expectMoneyError(
      () => computeReleaseFee(usd('1.00'), policyWith(), negative),
      'INVALID_AMOUNT',
      'provider volume',
    );
  });

  test('a policy that breaks a rule (a hand-edited row) charges nothing', () => {
    const broken = policyWith({ volumeTiers: [{ minVolume: 'lots', rate: '0.05' }] });
    expectFeePolicyError(
      () => computeReleaseFee(usd('1.00'), broken, usd('0')),
      'FEE_POLICY_INVALID',
      'fee policy 1',
      'volumeTiers[0].minVolume',
    );
  });
});
