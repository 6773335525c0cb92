// The fee module: effective-dated fee policies and the rules they obey, the fee
// on a release and on a resolved dispute, and the pending split of held funds
// that partial refunds shrink. Pure: no I/O, and the clock is passed in.

export { FeePolicyError, type FeePolicyErrorCode } from './errors';
export { DEFAULT_VOLUME_WINDOW_DAYS, defaultFeePolicy, fixedFeeFor, policyInForce } from './policy';
export type { FeePolicy, VolumeTier } from './fee-policy';
export {
  assertValidPolicy,
  describePolicy,
  MAX_RATE_FRACTION_DIGITS,
  policyProblems,
} from './policy-rules';
export { validateNewPolicy } from './validate-new-policy';
export { tierForVolume } from './volume-tier';
export { computeReleaseFee, type ReleaseFee } from './release-fee';
export { computeDisputeResolutionFee, type DisputeResolutionFee } from './dispute-fee';
export { pendingSplit, type PendingSplit } from './pending-split';
