/**
 * The guarded read routes the operators' console adds (src/ops/view-routes.ts
 * has the others), after the token check:
 *   GET /orders/{orderId}/timeline          every event, transaction, outcome and
 *                                           settlement of an order, oldest first
 *   GET /attention[?limit]                  what needs a person, from the database
 *   GET /attention/dead-letters[?limit]     the newest dead letters and their replay state
 *   GET /reconciliation/last                the last internal reconciliation this
 *                                           process ran (GET /reconciliation runs one)
 * Parameters are read as strictly as the money views' (src/ops/query-parameters.ts).
 * The paths are src/ops/routes.ts's.
 */
import type { AttentionView } from '../views/attention-view';
import { attentionLimitDefault, attentionLimitMax } from '../views/attention-view';
import type { OrderTimelineView } from '../views/order-timeline-view';
import type { ViewResult } from '../views/view-support';
import { checkParameterNames, parseLimit } from './query-parameters';
import type { OpsRoutePath, RouteMatch } from './routes';
import type { RouteAnswer } from './view-routes';

export interface ConsoleViews {
  timeline(orderId: string, now: Date): Promise<ViewResult<OrderTimelineView>>;
  attention(now: Date, limit: number): Promise<AttentionView>;
}

/**
 * Reads the DLQ from Kafka (src/dlq/dead-letters-view.ts, wired in src/worker.ts: the
 * operations API does not import the DLQ code, which sits above it); undefined where the
 * server has no Kafka (tests of the views alone).
 */
export type DeadLetterReader = ((perPartition: number, now: Date) => Promise<unknown>) | undefined;

/** Dead letters read per partition: the default and the most a request may ask for. */
export const deadLettersLimitDefault = 50;
export const deadLettersLimitMax = 500;

/** The last internal reconciliation run through this process's API, kept in memory. */
export interface LastReconciliation {
  /** When the run finished (UTC); null before the first run. */
  ranAt: string | null;
  /** When this process started keeping runs: nothing before it is known. */
  keptSince: string;
  report: unknown;
}

/** The routes this module answers (all guarded by the token). */
export type ConsoleRoutePath = Extract<
  OpsRoutePath,
  '/orders/{orderId}/timeline' | '/attention' | '/attention/dead-letters' | '/reconciliation/last'
>;

export async function answerConsoleRoute(
  views: ConsoleViews,
  readDeadLetters: DeadLetterReader,
  last: LastReconciliation,
  request: RouteMatch<ConsoleRoutePath> & { url: URL },
  now: Date,
): Promise<RouteAnswer> {
  const path = request.url.pathname;
  const search = request.url.searchParams;
  const takesLimit = request.route === '/attention' || request.route === '/attention/dead-letters';
  const unknown = checkParameterNames(search, takesLimit ? ['limit'] : []);
  if (unknown) return { status: 400, body: unknown };

  if (request.route === '/reconciliation/last') return { status: 200, body: last };

  if (request.route === '/attention') {
    const limit = parseLimit(
      'limit',
      search.get('limit'),
      attentionLimitDefault,
      attentionLimitMax,
    );
    if (!limit.ok) return { status: 400, body: limit.problem };
    return { status: 200, body: await views.attention(now, limit.value) };
  }

  if (request.route === '/attention/dead-letters') {
    const limit = parseLimit(
      'limit',
      search.get('limit'),
      deadLettersLimitDefault,
      deadLettersLimitMax,
    );
    if (!limit.ok) return { status: 400, body: limit.problem };
    if (readDeadLetters === undefined) {
      return {
        status: 503,
        body: { error: 'this server reads no Kafka: run escrow-worker dlq list instead' },
      };
    }
    return { status: 200, body: await readDeadLetters(limit.value, now) };
  }

  let orderId: string;
  try {
    orderId = decodeURIComponent(request.parameters.orderId ?? '');
  } catch {
    return {
      status: 400,
      body: {
        parameter: 'order id',
        error: `the order id in ${path} is not valid percent-encoding`,
      },
    };
  }
  const found = await views.timeline(orderId, now);
  return 'absent' in found
    ? { status: 404, body: { error: found.absent } }
    : { status: 200, body: found.view };
}
