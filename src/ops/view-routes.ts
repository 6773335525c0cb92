/**
 * The guarded read routes over orders and money (CONTRACT.md, "Operations
 * HTTP API"), after the token check:
 *   GET /orders/{orderId}[?asOf]         the order now, or its balances at asOf
 *   GET /orders/{orderId}/ledger         its ledger transactions and entries
 *   GET /providers/{providerId}[?asOf][&limit]  a provider's money and payouts
 *   GET /liquidity[?asOf]                where the platform's money is
 *   GET /reconciliation/gateway/runs[?gateway][&limit]  recorded gateway reconciliations
 * Parameters are read strictly (src/ops/query-parameters.ts): a money view
 * never answers a question it was not asked.
 */
import {
  type AsOf,
  checkParameterNames,
  type ParameterError,
  type Parsed,
  parseAsOf,
  parseLimit,
} from './query-parameters';

type Found = { view: unknown } | { absent: string };

export interface OpsViews {
  order(orderId: string, asOf: string | undefined): Promise<Found>;
  ledger(orderId: string): Promise<Found>;
  provider(providerId: string, options: { asOf?: string; payoutsLimit: number }): Promise<Found>;
  liquidity(asOf: string | undefined): Promise<unknown>;
  gatewayRuns(options: { gateway?: string; limit: number }): Promise<unknown>;
}

export interface RouteAnswer {
  status: number;
  body: unknown;
}

const orderRoute = /^\/orders\/([^/]+)(\/ledger)?$/;
const providerRoute = /^\/providers\/([^/]+)$/;

const gatewayRunsRoute = '/reconciliation/gateway/runs';
export const gatewayRunsLimitDefault = 20;
export const gatewayRunsLimitMax = 200;

export const payoutsLimitDefault = 100;
export const payoutsLimitMax = 1000;

/** True for the paths this module answers (all guarded by the token). */
export const isViewRoute = (path: string): boolean =>
  path === '/liquidity' ||
  path === gatewayRunsRoute ||
  orderRoute.test(path) ||
  providerRoute.test(path);

const refused = (problem: ParameterError): RouteAnswer => ({ status: 400, body: problem });

const answer = (found: Found): RouteAnswer =>
  'absent' in found
    ? { status: 404, body: { error: found.absent } }
    : { status: 200, body: found.view };

function decoded(encoded: string, what: string, path: string): Parsed<string> {
  try {
    return { ok: true, value: decodeURIComponent(encoded) };
  } catch {
    return {
      ok: false,
      problem: { parameter: what, error: `the ${what} in ${path} is not valid percent-encoding` },
    };
  }
}

export async function answerViewRoute(views: OpsViews, url: URL, now: Date): Promise<RouteAnswer> {
  const path = url.pathname;
  const search = url.searchParams;
  const ledger = orderRoute.exec(path)?.[2] !== undefined;
  if (path === gatewayRunsRoute) {
    const unknownName = checkParameterNames(search, ['gateway', 'limit']);
    if (unknownName) return refused(unknownName);
    const limit = parseLimit(
      'limit',
      search.get('limit'),
      gatewayRunsLimitDefault,
      gatewayRunsLimitMax,
    );
    if (!limit.ok) return refused(limit.problem);
    const gateway = search.get('gateway');
    return {
      status: 200,
      body: {
        runs: await views.gatewayRuns({ ...(gateway ? { gateway } : {}), limit: limit.value }),
      },
    };
  }
  const accepted = providerRoute.test(path) ? ['asOf', 'limit'] : ledger ? [] : ['asOf'];
  const unknown = checkParameterNames(search, accepted);
  if (unknown) return refused(unknown);
  const asOf = parseAsOf(search.get('asOf'), now);
  if (!asOf.ok) return refused(asOf.problem);
  const at: AsOf | undefined = asOf.value;

  if (path === '/liquidity') return { status: 200, body: await views.liquidity(at?.text) };

  const provider = providerRoute.exec(path);
  if (provider) {
    const providerId = decoded(provider[1]!, 'provider id', path);
    if (!providerId.ok) return refused(providerId.problem);
    const limit = parseLimit('limit', search.get('limit'), payoutsLimitDefault, payoutsLimitMax);
    if (!limit.ok) return refused(limit.problem);
    return answer(
      await views.provider(providerId.value, {
        ...(at === undefined ? {} : { asOf: at.text }),
        payoutsLimit: limit.value,
      }),
    );
  }

  const [, encodedId = ''] = orderRoute.exec(path) ?? [];
  const orderId = decoded(encodedId, 'order id', path);
  if (!orderId.ok) return refused(orderId.problem);
  return answer(
    ledger ? await views.ledger(orderId.value) : await views.order(orderId.value, at?.text),
  );
}
