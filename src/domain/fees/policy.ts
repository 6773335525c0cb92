// Fee policies are effective-dated versions (migrations/202611230004_fee_policies.ts):
// a fee is computed at release from the version in force at that moment, and a
// version is never edited, so a fee computed once can always be recomputed.

import { parseAmount, type Money } from '../money';
import type { FeePolicy } from './fee-policy';
import { assertValidPolicy } from './policy-rules';

/** The column default in fee_policies, so the default policy behaves like a stored one. */
export const DEFAULT_VOLUME_WINDOW_DAYS = 30;

/**
 * The policy that applies when no version is stored: a flat rate, no minimum, no
 * tiers, no dispute fee. In force since the epoch so that any stored version,
 * whenever it starts, takes over from it.
 */
export function defaultFeePolicy(rate: string): FeePolicy {
  const policy: FeePolicy = Object.freeze({
    policyId: null,
    effectiveFrom: new Date(0),
    rate,
    minimumFees: Object.freeze({}),
    volumeTiers: Object.freeze([]),
    volumeWindowDays: DEFAULT_VOLUME_WINDOW_DAYS,
    disputeFees: Object.freeze({}),
  });
  assertValidPolicy(policy);
  return policy;
}

/**
 * The version with the latest effectiveFrom at or before `at`; `fallback` (the
 * default policy) when none has started yet. The order of `policies` does not
 * matter. Two versions never share an effectiveFrom (validateNewPolicy and a
 * unique constraint refuse it), so the answer is unique.
 */
export function policyInForce(
  policies: readonly FeePolicy[],
  at: Date,
  fallback: FeePolicy,
): FeePolicy {
  assertValidInstant('at', at);
  let inForce: FeePolicy | null = null;
  for (const policy of policies) {
    const start = policy.effectiveFrom.getTime();
    if (start > at.getTime()) continue;
    if (inForce === null || start > inForce.effectiveFrom.getTime()) inForce = policy;
  }
  return inForce ?? fallback;
}

/**
 * A fixed per-currency fee (minimum or dispute fee) as Money, or null when the
 * policy sets none for this currency. Own keys only, so a key such as
 * "constructor" can never be read from the prototype.
 */
export function fixedFeeFor(
  fees: Readonly<Record<string, string>>,
  currency: string,
): Money | null {
  if (!Object.hasOwn(fees, currency)) return null;
  const text = fees[currency];
  return text === undefined ? null : parseAmount(text, currency);
}

// The instant is the caller's clock reading; an Invalid Date compares false with
// everything and would silently pick the fallback, so it is a programming error.
export function assertValidInstant(name: string, instant: Date): void {
  if (instant instanceof Date && !Number.isNaN(instant.getTime())) return;
  throw new RangeError(`${name} must be a valid Date, got ${String(instant)}`);
}
