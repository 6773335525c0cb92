/**
 * The guarded read routes over orders and money (CONTRACT.md, "Operations
 * HTTP API"), after the token check:
 *   GET /orders/{orderId}[?asOf]         the order now, or its balances at asOf
 *   GET /orders/{orderId}/ledger         its ledger transactions and entries
 *   GET /providers/{providerId}[?asOf][&limit]  a provider's money and payouts
 *   GET /liquidity[?asOf]                where the platform's money is
 *   GET /reconciliation/gateway/runs[?gateway][&limit]  recorded gateway reconciliations
 * Parameters are read strictly (src/ops/query-parameters.ts): a money view
 * never answers a question it was not asked. The paths are src/ops/routes.ts's.
 */
import {
  type AsOf,
  checkParameterNames,
  type ParameterError,
  type Parsed,
  parseAsOf,
  parseLimit,
} from './query-parameters';
import type { OpsRoutePath, RouteMatch } from './routes';

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

/** The routes this module answers (all guarded by the token). */
export type ViewRoutePath = Extract<
  OpsRoutePath,
  | '/orders/{orderId}'
  | '/orders/{orderId}/ledger'
  | '/providers/{providerId}'
  | '/liquidity'
  | '/reconciliation/gateway/runs'
>;

export const gatewayRunsLimitDefault = 20;
export const gatewayRunsLimitMax = 200;

export const payoutsLimitDefault = 100;
export const payoutsLimitMax = 1000;

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

export async function answerViewRoute(
  views: OpsViews,
  request: RouteMatch<ViewRoutePath> & { url: URL },
  now: Date,
): Promise<RouteAnswer> {
  const path = request.url.pathname;
  const search = request.url.searchParams;
  if (request.route === '/reconciliation/gateway/runs') {
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
  const ledger = request.route === '/orders/{orderId}/ledger';
  const provider = request.route === '/providers/{providerId}';
  const accepted = provider ? ['asOf', 'limit'] : ledger ? [] : ['asOf'];
  const unknown = checkParameterNames(search, accepted);
  if (unknown) return refused(unknown);
  const asOf = parseAsOf(search.get('asOf'), now);
  if (!asOf.ok) return refused(asOf.problem);
  const at: AsOf | undefined = asOf.value;

  if (request.route === '/liquidity') return { status: 200, body: await views.liquidity(at?.text) };

  if (provider) {
    const providerId = decoded(request.parameters.providerId ?? '', 'provider id', path);
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

  const orderId = decoded(request.parameters.orderId ?? '', 'order id', path);
  if (!orderId.ok) return refused(orderId.problem);
  return answer(
    ledger ? await views.ledger(orderId.value) : await views.order(orderId.value, at?.text),
  );
}
