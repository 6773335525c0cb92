/** The operations server's route list: which route a request path is answered by, and its parameters. */
import { matchRoute, opsRoutes } from '../../../src/ops/routes';

test('each path template is matched by itself, with its parameters as given (still percent-encoded)', () => {
  expect(matchRoute('/orders/o-1')).toEqual({
    route: '/orders/{orderId}',
    guarded: true,
    parameters: { orderId: 'o-1' },
  });
  expect(matchRoute('/orders/o%2F1/ledger')).toEqual({
    route: '/orders/{orderId}/ledger',
    guarded: true,
    parameters: { orderId: 'o%2F1' },
  });
  expect(matchRoute('/orders/o-1/timeline')?.route).toBe('/orders/{orderId}/timeline');
  expect(matchRoute('/providers/p-1')?.parameters).toEqual({ providerId: 'p-1' });
  expect(matchRoute('/reconciliation/gateway/runs')?.route).toBe('/reconciliation/gateway/runs');
  for (const route of opsRoutes.filter((candidate) => !candidate.path.includes('{'))) {
    expect(matchRoute(route.path)).toEqual({
      route: route.path,
      guarded: route.guarded,
      parameters: {},
    });
  }
});

test("the console's files may sit in subfolders; the probes, metrics and console are open", () => {
  expect(matchRoute('/console/img/logo.svg')).toEqual({
    route: '/console/{file}',
    guarded: false,
    parameters: { file: 'img/logo.svg' },
  });
  expect(matchRoute('/console/')?.route).toBe('/console/');
  expect(opsRoutes.filter((route) => !route.guarded).map((route) => route.path)).toEqual([
    '/healthz',
    '/readyz',
    '/metrics',
    '/console',
    '/console/',
    '/console/{file}',
  ]);
});

test('a path that is not a route, or a parameter that is empty or spans segments, matches nothing', () => {
  for (const path of [
    '/',
    '/healthz/',
    '/orders',
    '/orders/',
    '/orders//ledger',
    '/orders/o-1/ledger/x',
    '/orders/o-1/payments',
    '/providers/p/1',
    '/consoles',
    '/reconciliation/gateway',
  ]) {
    expect([path, matchRoute(path)]).toEqual([path, undefined]);
  }
});
