// The gate before a fee policy version is stored. Versions only ever append to
// the future: a fee already computed must stay explainable by the version that
// was in force when it was computed, so no new version may reach into the past
// or slip in before (or at the same instant as) a version already planned.

import { FeePolicyError } from './errors';
import type { FeePolicy } from './fee-policy';
import { assertValidInstant } from './policy';
import { assertValidPolicy, describePolicy } from './policy-rules';

/**
 * Returns `candidate` when it may be stored, otherwise throws FeePolicyError:
 * - FEE_POLICY_INVALID: a field breaks a rule of policy-rules.ts (all are listed);
 * - FEE_POLICY_RETROACTIVE: effectiveFrom is earlier than `now`;
 * - FEE_POLICY_OVERLAP: an existing version starts at the same instant or later.
 */
export function validateNewPolicy(
  existing: readonly FeePolicy[],
  candidate: FeePolicy,
  now: Date,
): FeePolicy {
  assertValidInstant('now', now);
  assertValidPolicy(candidate);
  const start = candidate.effectiveFrom;

  if (start.getTime() < now.getTime()) {
    throw new FeePolicyError(
      'FEE_POLICY_RETROACTIVE',
      `${describePolicy(candidate)} starts before now, ${now.toISOString()} (FEE_POLICY_RETROACTIVE): ` +
        'fees already computed under the policy in force then must not change; ' +
        'set effectiveFrom to now or later',
    );
  }

  const latest = latestVersion(existing);
  if (latest !== null && start.getTime() <= latest.effectiveFrom.getTime()) {
    const clash = existing.find((policy) => policy.effectiveFrom.getTime() === start.getTime());
    const conflict =
      clash !== undefined
        ? `${describePolicy(clash)} already starts at that instant`
        : `${describePolicy(latest)} starts later`;
    throw new FeePolicyError(
      'FEE_POLICY_OVERLAP',
      `${describePolicy(candidate)} overlaps: ${conflict} (FEE_POLICY_OVERLAP): ` +
        'a new version must start after the latest existing one; ' +
        `set effectiveFrom later than ${latest.effectiveFrom.toISOString()}`,
    );
  }
  return candidate;
}

function latestVersion(policies: readonly FeePolicy[]): FeePolicy | null {
  let latest: FeePolicy | null = null;
  for (const policy of policies) {
    if (latest === null || policy.effectiveFrom.getTime() > latest.effectiveFrom.getTime()) {
      latest = policy;
    }
  }
  return latest;
}
