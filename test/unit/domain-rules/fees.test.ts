/**
 * The fee module's smaller rules as their callers rely on them: the policy in
 * force and validateNewPolicy refuse an Invalid Date naming the argument; a
 * fixed fee is read from the policy's own keys only; the volume tier applied is
 * the highest one reached, whatever the order of the list; and a refused
 * value is quoted whole up to 40 characters, shortened beyond.
 */
import {
  type FeePolicy,
  FeePolicyError,
  fixedFeeFor,
  policyInForce,
  policyProblems,
  tierForVolume,
  validateNewPolicy,
} from '../../../src/domain/fees';
import { policyWith, usd } from '../fees/fee-fixtures';

test('policyInForce refuses an Invalid Date, naming the argument and what it got', () => {
  expect(() => policyInForce([], new Date('never'), policyWith())).toThrow(
    new RangeError('at must be a valid Date, got Invalid Date'),
  );
});

test('validateNewPolicy refuses an Invalid Date for now, naming it', () => {
  expect(() => validateNewPolicy([], policyWith(), new Date(Number.NaN))).toThrow(
    new RangeError('now must be a valid Date, got Invalid Date'),
  );
});

test('a fixed fee is read from the policy’s own keys only, never from the prototype', () => {
  const fees: FeePolicy['minimumFees'] = { USD: '1.00' };
  expect(fixedFeeFor(fees, 'USD')).toEqual({ currency: 'USD', minor: 100n });
  for (const inherited of ['constructor', 'toString', 'hasOwnProperty']) {
    expect(fixedFeeFor(fees, inherited)).toBeNull();
  }
  expect(fixedFeeFor(fees, 'EUR')).toBeNull();
});

test('the tier applied is the highest reached, whatever the order of the list', () => {
  const tiers = [
    { minVolume: '10000.00', rate: '0.05' },
    { minVolume: '5000.00', rate: '0.08' },
    { minVolume: '50000.00', rate: '0.02' },
  ];
  expect(tierForVolume(tiers, usd('20000.00'))).toEqual({ minVolume: '10000.00', rate: '0.05' });
  expect(tierForVolume(tiers, usd('7000.00'))).toEqual({ minVolume: '5000.00', rate: '0.08' });
  expect(tierForVolume(tiers, usd('4999.99'))).toBeNull();
});

describe('a refused value in a policy message', () => {
  test('is quoted whole up to 40 characters', () => {
    const rate = `0.${'1'.repeat(38)}`;
    expect(rate).toHaveLength(40);
    expect(policyProblems(policyWith({ rate }))).toEqual([
      `rate "${rate}" has 38 fractional digits: write at most 8, as many as the database keeps`,
    ]);
  });

  test('is shortened to its first 40 characters beyond that', () => {
    const rate = `0.${'1'.repeat(39)}`;
    expect(policyProblems(policyWith({ rate }))).toEqual([
      `rate "${rate.slice(0, 40)}…" is not a decimal in [0, 1): write the fraction as a string, "0.10" for 10 %`,
    ]);
  });
});

test('the error a broken policy raises is a FeePolicyError by name, for logs and handlers', () => {
  let thrown: unknown;
  try {
    validateNewPolicy([], policyWith({ rate: '2' }), new Date('2025-01-01T00:00:00Z'));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(FeePolicyError);
  expect((thrown as FeePolicyError).name).toBe('FeePolicyError');
  expect((thrown as FeePolicyError).code).toBe('FEE_POLICY_INVALID');
});
