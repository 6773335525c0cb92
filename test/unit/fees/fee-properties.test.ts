// Properties over random policies, amounts and volumes in currencies with 0, 2 and
// 3 minor digits: whatever the policy, a fee never creates or loses a minor unit.
import Decimal from 'decimal.js';
import fc from 'fast-check';
import {
  computeDisputeResolutionFee,
  computeReleaseFee,
  pendingSplit,
  type FeePolicy,
} from '../../../src/domain/fees';
import {
  add,
  currencyDigits,
  formatAmount,
  min,
  money,
  multiplyByRate,
  parseAmount,
  subtract,
  type Money,
} from '../../../src/domain/money';

const anyCurrency = fc.constantFrom('JPY', 'USD', 'KWD');
const anyMinor = (max: bigint) => fc.bigInt({ min: 0n, max });

// Rates in [0, 1) with 0 to 8 fractional digits, as validateNewPolicy accepts them.
const anyRate = fc
  .tuple(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 8 }))
  .map(([digits, scale]) => new Decimal(digits).dividedBy(10 ** 8).toDecimalPlaces(scale, 1))
  .map((rate) => rate.toFixed());

// A positive fixed fee in the currency, or none.
const anyFixedFee = (currency: string) =>
  fc.option(
    anyMinor(10n ** 6n).map((minor) => formatAmount(money(currency, minor + 1n))),
    { nil: undefined },
  );

const anyPolicy = (currency: string): fc.Arbitrary<FeePolicy> =>
  fc
    .record({
      rate: anyRate,
      minimum: anyFixedFee(currency),
      dispute: anyFixedFee(currency),
      // Thresholds as major-unit text with up to 3 digits, whatever the currency.
      thresholds: fc.uniqueArray(fc.integer({ min: 1, max: 10_000_000 }), { maxLength: 4 }),
      tierRates: fc.array(anyRate, { minLength: 4, maxLength: 4 }),
    })
    .map(({ rate, minimum, dispute, thresholds, tierRates }) => ({
      policyId: 1,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      rate,
      minimumFees: minimum === undefined ? {} : { [currency]: minimum },
      disputeFees: dispute === undefined ? {} : { [currency]: dispute },
      volumeTiers: [...thresholds]
        .sort((a, b) => a - b)
        .map((threshold, index) => ({
          minVolume: new Decimal(threshold).dividedBy(1000).toFixed(),
          rate: tierRates[index] ?? '0',
        })),
      volumeWindowDays: 30,
    }));

const anyCase = anyCurrency.chain((currency) =>
  fc.record({
    currency: fc.constant(currency),
    policy: anyPolicy(currency),
    gross: anyMinor(10n ** 13n).map((minor) => money(currency, minor)),
    volume: anyMinor(10n ** 13n).map((minor) => money(currency, minor)),
  }),
);

const between = (low: Money, value: Money, high: Money) =>
  low.minor <= value.minor && value.minor <= high.minor;

// An oracle for the tier, on minor units rather than the module's decimal text.
function expectedRate(policy: FeePolicy, volume: Money): string {
  const scale = new Decimal(10).pow(currencyDigits(volume.currency));
  const reached = policy.volumeTiers.filter((tier) =>
    new Decimal(tier.minVolume).times(scale).lte(volume.minor.toString()),
  );
  return reached.at(-1)?.rate ?? policy.rate;
}

describe('fee properties across JPY, USD and KWD', () => {
  test('release: fee + net = gross, 0 <= fee <= gross, the rate from the right tier', () => {
    fc.assert(
      fc.property(anyCase, ({ currency, policy, gross, volume }) => {
        const result = computeReleaseFee(gross, policy, volume);
        expect(add(result.fee, result.net)).toEqual(gross);
        expect(between(money(currency, 0n), result.fee, gross)).toBe(true);
        expect(result.rateApplied).toBe(expectedRate(policy, volume));
        const rateBased = multiplyByRate(gross, result.rateApplied);
        if (result.minimumApplied) {
          const minimum = parseAmount(policy.minimumFees[currency] ?? '', currency);
          expect(rateBased.minor).toBeLessThan(minimum.minor);
          expect(result.fee).toEqual(min(minimum, gross));
        } else {
          expect(result.fee).toEqual(rateBased);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('dispute: fee + net = provider part, dispute fee within the policy and the part', () => {
    fc.assert(
      fc.property(anyCase, ({ currency, policy, gross, volume }) => {
        const result = computeDisputeResolutionFee(gross, policy, volume);
        const release = computeReleaseFee(gross, policy, volume);
        expect(add(result.fee, result.net)).toEqual(gross);
        expect(result.fee).toEqual(add(release.fee, result.disputeFee));
        expect(between(money(currency, 0n), result.fee, gross)).toBe(true);
        const nominal = policy.disputeFees[currency] ?? '0';
        expect(result.disputeFee.minor).toBeGreaterThanOrEqual(0n);
        expect(result.disputeFee.minor).toBeLessThanOrEqual(
          BigInt(new Decimal(nominal).times(10 ** currencyDigits(currency)).toFixed()),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('pending split: each refund leaves fee + earnings = held, and the fee never grows', () => {
    const anyRefundShares = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 });
    fc.assert(
      fc.property(anyCase, anyRefundShares, ({ currency, policy, gross, volume }, shares) => {
        let split = pendingSplit(gross, policy, volume);
        for (const share of shares) {
          // Each refund is a share (in thousandths) of what is still held; what stays
          // is split as a release of it would split it.
          const refund = money(currency, (split.held.minor * BigInt(share)) / 1000n);
          const next = pendingSplit(subtract(split.held, refund), policy, volume);
          expect(next.pendingFee).toEqual(computeReleaseFee(next.held, policy, volume).fee);
          expect(add(next.pendingFee, next.pendingEarnings)).toEqual(next.held);
          expect(between(money(currency, 0n), next.pendingFee, next.held)).toBe(true);
          expect(next.pendingFee.minor).toBeLessThanOrEqual(split.pendingFee.minor);
          split = next;
        }
      }),
      { numRuns: 300 },
    );
  });
});
