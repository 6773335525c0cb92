// What a fee policy version holds. Its own file: the rules a policy obeys
// (policy-rules.ts) and the policies in force (policy.ts) both read it.

export interface VolumeTier {
  /** Major units in the release's currency: a tier is currency-agnostic text. */
  readonly minVolume: string;
  /** Decimal fraction that replaces the base rate from this volume on. */
  readonly rate: string;
}

export interface FeePolicy {
  /** null = the default policy from configuration (PLATFORM_FEE_RATE), never stored. */
  readonly policyId: number | null;
  readonly effectiveFrom: Date;
  /** Decimal fraction in [0, 1), e.g. "0.10". */
  readonly rate: string;
  /** Currency → major-unit amount: the least fee a release in that currency pays. */
  readonly minimumFees: Readonly<Record<string, string>>;
  readonly volumeTiers: readonly VolumeTier[];
  /** The trailing window, in days, over which the provider's released volume counts. */
  readonly volumeWindowDays: number;
  /** Currency → major-unit amount charged on the provider's part of a resolved dispute. */
  readonly disputeFees: Readonly<Record<string, string>>;
}
