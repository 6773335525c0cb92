// What a milestone's held funds would pay out if released now, kept for the
// audit trail: the platform's pending fee and the provider's pending earnings.
// The fee actually charged is computed again at release from the policy in force
// then (CONTRACT.md, "Fees"); this split only shows where the money is headed and
// how partial refunds shrink it.

import { formatAmount, MoneyError, proportion, subtract, zero, type Money } from '../money';
import type { FeePolicy } from './fee-policy';
import { computeReleaseFee } from './release-fee';

export interface PendingSplit {
  readonly held: Money;
  readonly pendingFee: Money;
  /** held - pendingFee exactly. */
  readonly pendingEarnings: Money;
}

/** The split a release of everything `held` would make now. */
export function pendingSplit(held: Money, policy: FeePolicy, providerVolume: Money): PendingSplit {
  const release = computeReleaseFee(held, policy, providerVolume);
  return Object.freeze({ held, pendingFee: release.fee, pendingEarnings: release.net });
}

/**
 * The split after `refund` goes back to the buyer before release. The pending fee
 * shrinks in proportion to what stays held (half-up), rather than being
 * recomputed, because the contract says so: on 1000.00 at 10 %, refunding 500.00
 * leaves 50.00 for the platform and 450.00 for the provider, even where a minimum
 * fee would otherwise have kicked in. The earnings are the rest, so the two still
 * sum to what is held.
 */
export function pendingAfterRefund(before: PendingSplit, refund: Money): PendingSplit {
  assertConsistent(before);
  assertRefundable(before.held, refund);
  const held = subtract(before.held, refund);
  if (held.minor === 0n) {
    return Object.freeze({ held, pendingFee: zero(held.currency), pendingEarnings: held });
  }
  const pendingFee = proportion(before.pendingFee, held, before.held);
  return Object.freeze({ held, pendingFee, pendingEarnings: subtract(held, pendingFee) });
}

function assertRefundable(held: Money, refund: Money): void {
  if (refund.currency !== held.currency) {
    throw new MoneyError(
      'CURRENCY_MISMATCH',
      `cannot refund ${refund.currency} from funds held in ${held.currency} (CURRENCY_MISMATCH): ` +
        'refund in the currency the milestone was funded in',
    );
  }
  if (refund.minor < 0n || refund.minor > held.minor) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `cannot refund ${formatAmount(refund)} ${refund.currency} from ${formatAmount(held)} held ` +
        '(INVALID_AMOUNT): a refund before release is zero or more and at most what is held',
    );
  }
}

// The proportion keeps 0 <= fee <= held only if it held before; a split that
// does not add up would carry its error into every later refund.
function assertConsistent(split: PendingSplit): void {
  const { held, pendingFee, pendingEarnings } = split;
  const adds = subtract(held, pendingFee).minor === pendingEarnings.minor;
  if (
    adds &&
    pendingFee.minor >= 0n &&
    pendingEarnings.minor >= 0n &&
    pendingEarnings.currency === held.currency
  )
    return;
  throw new MoneyError(
    'INVALID_AMOUNT',
    `pending split of ${formatAmount(held)} ${held.currency} held does not add up ` +
      `(fee ${formatAmount(pendingFee)}, earnings ${formatAmount(pendingEarnings)}) (INVALID_AMOUNT): ` +
      'build it with pendingSplit and change it only with pendingAfterRefund',
  );
}
