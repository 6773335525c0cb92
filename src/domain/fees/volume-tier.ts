// Volume tiers reward providers who release a lot: past a threshold of released
// gross over the policy's trailing window, a lower rate applies. A tier's
// minVolume is text in major units with no currency of its own, so it is compared
// to the volume as an exact decimal: "10000.5" is a valid threshold even for JPY.

import Decimal from 'decimal.js';
import { formatAmount, MoneyError, type Money } from '../money';
import type { VolumeTier } from './fee-policy';

/**
 * The tier with the highest minVolume at or below `providerVolume`, or null when
 * the volume reaches none (the base rate applies). The volume is reached exactly
 * at the threshold: 10000.00 released reaches a tier starting at "10000.00".
 */
export function tierForVolume(
  tiers: readonly VolumeTier[],
  providerVolume: Money,
): VolumeTier | null {
  if (providerVolume.minor < 0n) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `provider volume ${formatAmount(providerVolume)} ${providerVolume.currency} is negative ` +
        '(INVALID_AMOUNT): the volume is a sum of released gross amounts, zero or more',
    );
  }
  // Decimal keeps every digit of a constructed value and compares exactly.
  const volume = new Decimal(formatAmount(providerVolume));
  let reached: VolumeTier | null = null;
  let reachedMinimum: Decimal | null = null;
  for (const tier of tiers) {
    const minimum = new Decimal(tier.minVolume);
    if (minimum.gt(volume)) continue;
    if (reachedMinimum === null || minimum.gt(reachedMinimum)) {
      reached = tier;
      reachedMinimum = minimum;
    }
  }
  return reached;
}
