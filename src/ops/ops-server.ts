/**
 * The operations HTTP API (CONTRACT.md, "Operations HTTP API"; every route
 * documented in docs/openapi.yaml). The routes are the list in
 * src/ops/routes.ts; a request is matched against it, then answered here:
 *   open:    GET /healthz, GET /readyz, GET /metrics
 *   guarded: GET /reconciliation; the money views (src/ops/view-routes.ts);
 *            the console's data (src/ops/console-routes.ts)
 *   static:  GET /console/… the operators' console (src/ops/console-assets.ts)
 * The guarded routes need `Authorization: Bearer $OPS_TOKEN` when OPS_TOKEN is
 * set; the console's files hold no data and are served without it. Plain
 * node:http: a handful of read-only routes do not need a framework.
 */
import http from 'node:http';
import type { Logger } from '../logging/logger';
import { isAuthorized } from './bearer-token';
import { consoleAsset, consoleSecurityHeaders } from './console-assets';
import {
  answerConsoleRoute,
  type ConsoleViews,
  type DeadLetterReader,
  type LastReconciliation,
} from './console-routes';
import { type ReadinessCheck, readiness } from './readiness';
import { matchRoute } from './routes';
import { answerViewRoute, type OpsViews } from './view-routes';

export type { ReadinessCheck, OpsViews };

export interface OpsDependencies {
  /** OPS_TOKEN; undefined leaves the guarded routes open. */
  token: string | undefined;
  checks: Record<string, ReadinessCheck>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The order, provider, liquidity, timeline and attention views (src/views/operations-views.ts). */
  views: OpsViews & ConsoleViews;
  /** The newest dead letters from Kafka; left out, GET /attention/dead-letters answers 503. */
  deadLetters?: DeadLetterReader;
  /** The report as JSON and as the table `npm run reconcile` prints. */
  reconciliation(): Promise<{ json: unknown; text: string }>;
  log: Logger;
}

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

const isBytes = (body: unknown): body is Buffer | string =>
  typeof body === 'string' || Buffer.isBuffer(body);

export function startOpsServer(port: number, deps: OpsDependencies): Promise<http.Server> {
  // One report at a time: concurrent requests share the run in progress. The
  // last one is kept in memory for the console (the worker stores no runs).
  let reconciling: Promise<{ json: unknown; text: string }> | undefined;
  const last: LastReconciliation = {
    ranAt: null,
    keptSince: new Date().toISOString(),
    report: null,
  };
  const reconcileOnce = () => {
    reconciling ??= deps
      .reconciliation()
      .then((report) => {
        last.ranAt = new Date().toISOString();
        last.report = report.json;
        return report;
      })
      .finally(() => {
        reconciling = undefined;
      });
    return reconciling;
  };

  async function route(request: http.IncomingMessage, reply: Reply): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://ops.invalid');
    const path = url.pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply(
        405,
        { error: `${request.method} is not allowed; the API is read-only (GET)` },
        {
          Allow: 'GET, HEAD',
        },
      );
    }
    const match = matchRoute(path);
    if (match === undefined) return reply(404, { error: `no route GET ${path}` });
    if (match.guarded && !isAuthorized(request.headers.authorization, deps.token)) {
      return reply(
        401,
        { error: 'this route needs the header "Authorization: Bearer <OPS_TOKEN>"' },
        { 'WWW-Authenticate': 'Bearer realm="escrow-worker"' },
      );
    }
    const route = match.route;
    switch (route) {
      case '/healthz':
        return reply(200, { status: 'ok' });
      case '/readyz': {
        const result = await readiness(deps.checks);
        return reply(result.ready ? 200 : 503, {
          status: result.ready ? 'ready' : 'not ready',
          checks: result.checks,
        });
      }
      case '/metrics': {
        const { contentType, body } = await deps.metrics();
        return reply(200, body, { 'Content-Type': contentType });
      }
      case '/console':
      case '/console/':
      case '/console/{file}': {
        const asset = await consoleAsset(path);
        if (asset.status === 301) return reply(301, '', { Location: asset.location });
        if (asset.status === 404) return reply(404, { error: `no console file ${path}` });
        return reply(200, asset.body, {
          'Content-Type': asset.contentType,
          'Cache-Control': 'no-cache',
          ...consoleSecurityHeaders,
        });
      }
      case '/reconciliation': {
        const report = await reconcileOnce();
        const wantsText =
          url.searchParams.get('format') === 'text' ||
          (request.headers.accept ?? '').startsWith('text/plain');
        return wantsText
          ? reply(200, report.text, { 'Content-Type': 'text/plain; charset=utf-8' })
          : reply(200, report.json);
      }
      case '/orders/{orderId}/timeline':
      case '/attention':
      case '/attention/dead-letters':
      case '/reconciliation/last': {
        const answer = await answerConsoleRoute(
          deps.views,
          deps.deadLetters,
          last,
          { ...match, route, url },
          new Date(),
        );
        return reply(answer.status, answer.body, { 'Cache-Control': 'no-store' });
      }
      case '/orders/{orderId}':
      case '/orders/{orderId}/ledger':
      case '/providers/{providerId}':
      case '/liquidity':
      case '/reconciliation/gateway/runs': {
        const answer = await answerViewRoute(deps.views, { ...match, route, url }, new Date());
        return reply(answer.status, answer.body, { 'Cache-Control': 'no-store' });
      }
      default: {
        const unanswered: never = route;
        throw new Error(`route ${String(unanswered)} is listed and not answered`);
      }
    }
  }

  const server = http.createServer((request, response) => {
    const reply: Reply = (status, body, headers = {}) => {
      const text = isBytes(body) ? body : JSON.stringify(body);
      response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      response.end(request.method === 'HEAD' ? undefined : text);
    };
    route(request, reply).catch((error: unknown) => {
      deps.log.error({ err: error, path: request.url }, 'operations API request failed');
      if (!response.headersSent) reply(500, { error: (error as Error).message });
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
