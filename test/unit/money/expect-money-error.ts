// Asserts that `action` throws a MoneyError with this code (and, when given, a
// message containing each fragment), so each test states the rule it expects.
import { MoneyError, type MoneyErrorCode } from '../../../src/domain/money';

export function expectMoneyError(
  action: () => unknown,
  code: MoneyErrorCode,
  ...messageFragments: string[]
): MoneyError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MoneyError);
  const error = thrown as MoneyError;
  expect(error.code).toBe(code);
  expect(error.retryable).toBe(false);
  expect(error.message).toContain(`(${code})`);
  for (const fragment of messageFragments) expect(error.message).toContain(fragment);
  return error;
}
