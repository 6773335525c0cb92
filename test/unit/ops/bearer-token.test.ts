import { isAuthorized } from '../../../src/ops/bearer-token';

const token = 'a-long-enough-secret-token';

test('without OPS_TOKEN every request is authorized', () => {
  expect(isAuthorized(undefined, undefined)).toBe(true);
  expect(isAuthorized('Bearer anything', undefined)).toBe(true);
});

test('with OPS_TOKEN only "Bearer <token>" is authorized', () => {
  expect(isAuthorized(`Bearer ${token}`, token)).toBe(true);
  expect(isAuthorized(`bearer ${token}`, token)).toBe(true);
  expect(isAuthorized(undefined, token)).toBe(false);
  expect(isAuthorized('', token)).toBe(false);
  expect(isAuthorized(token, token)).toBe(false);
  expect(isAuthorized(`Basic ${token}`, token)).toBe(false);
  expect(isAuthorized(`Bearer ${token}x`, token)).toBe(false);
  expect(isAuthorized(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
  expect(isAuthorized(`Bearer ${token} extra`, token)).toBe(false);
});
