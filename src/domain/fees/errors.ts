// Typed errors for fee policies. A policy that breaks a rule is refused the same
// way on every retry, so `retryable` is always false: the operator has to change
// the policy, and the message says which rule it broke and how to fix it.

export type FeePolicyErrorCode =
  'FEE_POLICY_RETROACTIVE' | 'FEE_POLICY_OVERLAP' | 'FEE_POLICY_INVALID';

export class FeePolicyError extends Error {
  readonly code: FeePolicyErrorCode;
  readonly retryable = false;

  constructor(code: FeePolicyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeePolicyError';
    this.code = code;
  }
}

// Policy values come from configuration or a JSON column, so a bad one may not
// even be a string; quote it (to show spaces) and shorten it (to keep logs sane).
export function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const limit = 40;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}
