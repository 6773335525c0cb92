import fc from 'fast-check';
import { allocate, allocateByAmounts, money, sum } from '../../../src/domain/money';
import { expectMoneyError } from './expect-money-error';

const usd = (minor: bigint) => money('USD', minor);
const minorsOf = (parts: readonly { minor: bigint }[]) => parts.map((part) => part.minor);

describe('allocate', () => {
  test('splits evenly when it can', () => {
    expect(minorsOf(allocate(usd(900n), [1n, 1n, 1n]))).toEqual([300n, 300n, 300n]);
    expect(minorsOf(allocate(usd(1000n), [3n, 1n]))).toEqual([750n, 250n]);
  });

  test('ties in the remainder go to the earlier parts', () => {
    expect(minorsOf(allocate(usd(100n), [1n, 1n, 1n]))).toEqual([34n, 33n, 33n]);
    expect(minorsOf(allocate(usd(2n), [1n, 1n, 1n]))).toEqual([1n, 1n, 0n]);
  });

  test('the largest remainder wins over an earlier index', () => {
    // Exact shares 0.25 and 0.75: the one unit goes to the second part.
    expect(minorsOf(allocate(usd(1n), [1n, 3n]))).toEqual([0n, 1n]);
    // Exact shares 1.67, 3.33, 5: floors 1, 3, 5 leave one unit, for the 0.67.
    expect(minorsOf(allocate(usd(10n), [1n, 2n, 3n]))).toEqual([2n, 3n, 5n]);
  });

  test('a zero weight gets nothing, and a zero total gives zeros', () => {
    expect(minorsOf(allocate(usd(1n), [0n, 1n, 1n]))).toEqual([0n, 1n, 0n]);
    expect(minorsOf(allocate(usd(0n), [2n, 5n]))).toEqual([0n, 0n]);
  });

  test('keeps the currency', () => {
    expect(allocate(money('JPY', 5n), [1n, 1n])).toEqual([money('JPY', 3n), money('JPY', 2n)]);
  });

  test('refuses a negative total', () => {
    expectMoneyError(() => allocate(usd(-1n), [1n]), 'INVALID_AMOUNT', 'negative total');
  });

  test('refuses a negative weight', () => {
    expectMoneyError(() => allocate(usd(10n), [2n, -1n]), 'INVALID_AMOUNT', 'negative');
  });

  test('refuses weights with no positive one, including none at all', () => {
    expectMoneyError(() => allocate(usd(10n), [0n, 0n]), 'INVALID_AMOUNT', 'positive weight');
    expectMoneyError(() => allocate(usd(10n), []), 'INVALID_AMOUNT', 'positive weight');
  });

  const anyWeights = fc
    .array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 })
    .filter((weights) => weights.some((weight) => weight > 0n));
  const anyTotal = fc.bigInt({ min: 0n, max: 10n ** 30n });

  test('conserves the total, each part within one minor unit of its exact share (property)', () => {
    fc.assert(
      fc.property(anyTotal, anyWeights, (total, weights) => {
        const parts = allocate(usd(total), weights);
        expect(parts).toHaveLength(weights.length);
        expect(sum('USD', parts)).toEqual(usd(total));
        const weightSum = weights.reduce((acc, weight) => acc + weight, 0n);
        parts.forEach((part, index) => {
          const weight = weights[index] ?? 0n;
          // |part - total × w / Σw| < 1, multiplied through by Σw to stay in integers.
          const error = part.minor * weightSum - total * weight;
          expect(error > -weightSum && error < weightSum).toBe(true);
          if (weight === 0n) expect(part.minor).toBe(0n);
        });
      }),
      { numRuns: 500 },
    );
  });

  test('small totals over many parts still conserve every unit (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 50n }), anyWeights, (total, weights) => {
        expect(sum('USD', allocate(usd(total), weights))).toEqual(usd(total));
      }),
    );
  });
});

describe('allocateByAmounts', () => {
  test('spreads a refund over installments in proportion to them', () => {
    const parts = allocateByAmounts(usd(30_000n), [usd(60_000n), usd(40_000n)]);
    expect(minorsOf(parts)).toEqual([18_000n, 12_000n]);
  });

  test('refuses parts in another currency', () => {
    expectMoneyError(
      () => allocateByAmounts(usd(10n), [usd(1n), money('EUR', 1n)]),
      'CURRENCY_MISMATCH',
      'EUR',
    );
  });

  test('refuses a negative part', () => {
    expectMoneyError(() => allocateByAmounts(usd(10n), [usd(1n), usd(-1n)]), 'INVALID_AMOUNT');
  });
});
