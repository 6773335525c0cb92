// Splitting an amount into parts that sum exactly to it, e.g. a payment spread over
// milestones, or a refund spread over the installments it came from. Dividing each
// share independently and rounding would create or lose minor units; here every
// minor unit of the total lands in exactly one part.

import { MoneyError } from './errors';
import { money, type Money } from './money';

/**
 * Splits `total` into parts proportional to `weights` (non-negative integers, at
 * least one positive), one part per weight, in the same order.
 *
 * Rounding rule (largest remainder, the Hamilton method):
 * 1. part i first gets floor(total × wᵢ / Σw) minor units;
 * 2. the minor units still missing (fewer than the number of weights) go one each
 *    to the parts whose exact share had the largest fractional remainder, a tie
 *    going to the earlier index.
 * So every part is within one minor unit of its exact share, the parts sum to the
 * total, and a zero weight always gets zero: its remainder is 0 and only parts
 * with a positive remainder can be among the leftover's recipients (the
 * remainders sum to leftover × Σw, each below Σw, so more than `leftover` of them
 * are positive).
 */
export function allocate(total: Money, weights: readonly bigint[]): Money[] {
  if (total.minor < 0n) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `cannot allocate a negative total of ${total.minor} ${total.currency} minor units ` +
        '(INVALID_AMOUNT): allocate the positive amount and negate the parts',
    );
  }
  if (weights.some((weight) => weight < 0n)) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      'allocation weights must not be negative (INVALID_AMOUNT): ' +
        'use zero for a part that should get nothing',
    );
  }
  const weightSum = weights.reduce((acc, weight) => acc + weight, 0n);
  if (weightSum === 0n) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      'allocation needs at least one positive weight (INVALID_AMOUNT): ' +
        'with every weight zero there is no proportion to split by',
    );
  }

  const shares = weights.map((weight, index) => ({
    index,
    floor: (total.minor * weight) / weightSum,
    // The fractional part of the exact share, scaled by weightSum to stay integral.
    remainder: (total.minor * weight) % weightSum,
  }));
  const allocated = shares.reduce((acc, share) => acc + share.floor, 0n);
  const leftover = Number(total.minor - allocated); // < weights.length, so a safe number

  const byRemainderThenIndex = [...shares].sort((a, b) => {
    if (a.remainder !== b.remainder) return a.remainder > b.remainder ? -1 : 1;
    return a.index - b.index;
  });
  const minorUnits = shares.map((share) => share.floor);
  for (const share of byRemainderThenIndex.slice(0, leftover)) {
    minorUnits[share.index] = share.floor + 1n;
  }
  return minorUnits.map((minor) => money(total.currency, minor));
}

/**
 * allocate with the parts' own amounts as weights: spreads a refund of 300.00
 * over installments of 600.00 and 400.00 as 180.00 and 120.00. The parts must be
 * in the total's currency and not negative.
 */
export function allocateByAmounts(total: Money, parts: readonly Money[]): Money[] {
  for (const part of parts) {
    if (part.currency !== total.currency) {
      throw new MoneyError(
        'CURRENCY_MISMATCH',
        `cannot allocate ${total.currency} by amounts in ${part.currency} (CURRENCY_MISMATCH): ` +
          'the total and the parts it is split by must share a currency',
      );
    }
  }
  return allocate(
    total,
    parts.map((part) => part.minor),
  );
}
