import { defaultFeePolicy, policyInForce } from '../../../src/domain/fees';
import { expectFeePolicyError, policyWith } from './fee-fixtures';

describe('defaultFeePolicy', () => {
  test('is a flat rate with nothing else, in force since the epoch, with no id', () => {
    expect(defaultFeePolicy('0.10')).toEqual({
      policyId: null,
      effectiveFrom: new Date(0),
      rate: '0.10',
      minimumFees: {},
      volumeTiers: [],
      volumeWindowDays: 30,
      disputeFees: {},
    });
  });

  test('is frozen, so configuration cannot be changed by a caller', () => {
    expect(Object.isFrozen(defaultFeePolicy('0.10'))).toBe(true);
  });

  test.each(['1', '1.5', '-0.1', '0,10', '', '0.123456789'])(
    'refuses the configured rate %p with FEE_POLICY_INVALID',
    (rate) => {
      expectFeePolicyError(() => defaultFeePolicy(rate), 'FEE_POLICY_INVALID', 'rate');
    },
  );
});

describe('policyInForce', () => {
  const fallback = defaultFeePolicy('0.10');
  const january = policyWith({ policyId: 1, effectiveFrom: new Date('2026-01-01T00:00:00Z') });
  const march = policyWith({ policyId: 2, effectiveFrom: new Date('2026-03-01T00:00:00Z') });
  const june = policyWith({ policyId: 3, effectiveFrom: new Date('2026-06-01T00:00:00Z') });
  // Deliberately out of order: the answer must not depend on the list's order.
  const versions = [june, january, march];

  test('picks the latest version that has started', () => {
    expect(policyInForce(versions, new Date('2026-04-15T00:00:00Z'), fallback)).toBe(march);
    expect(policyInForce(versions, new Date('2027-01-01T00:00:00Z'), fallback)).toBe(june);
  });

  test('a version is in force from its effectiveFrom instant itself', () => {
    expect(policyInForce(versions, new Date('2026-03-01T00:00:00Z'), fallback)).toBe(march);
    expect(policyInForce(versions, new Date('2026-02-28T23:59:59.999Z'), fallback)).toBe(january);
  });

  test('falls back when no version has started yet, or none exists', () => {
    expect(policyInForce(versions, new Date('2025-12-31T23:59:59.999Z'), fallback)).toBe(fallback);
    expect(policyInForce([], new Date('2026-04-15T00:00:00Z'), fallback)).toBe(fallback);
  });

  test('refuses an Invalid Date rather than silently falling back', () => {
    expect(() => policyInForce(versions, new Date('not a date'), fallback)).toThrow(RangeError);
  });
});
