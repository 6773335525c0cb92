// Shared builders for the fee tests: amounts from their wire text, policies from
// a readable base, and an assertion that names the FeePolicyError rule expected.
import { FeePolicyError, type FeePolicy, type FeePolicyErrorCode } from '../../../src/domain/fees';
import { parseAmount, type Money } from '../../../src/domain/money';

export const amount = (text: string, currency: string): Money =>
  parseAmount(text, currency, { allowZero: true });

export const usd = (text: string): Money => amount(text, 'USD');

/** A stored-looking version at 10 %, no minimum, no tiers, no dispute fee. */
export function policyWith(overrides: Partial<FeePolicy> = {}): FeePolicy {
  return {
    policyId: 1,
    effectiveFrom: new Date('2026-01-01T00:00:00Z'),
    rate: '0.10',
    minimumFees: {},
    volumeTiers: [],
    volumeWindowDays: 30,
    disputeFees: {},
    ...overrides,
  };
}

export function expectFeePolicyError(
  action: () => unknown,
  code: FeePolicyErrorCode,
  ...messageFragments: string[]
): FeePolicyError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(FeePolicyError);
  const error = thrown as FeePolicyError;
  expect(error.code).toBe(code);
  expect(error.retryable).toBe(false);
  expect(error.message).toContain(`(${code})`);
  for (const fragment of messageFragments) expect(error.message).toContain(fragment);
  return error;
}
