/**
 * Every route the operations server answers, as OpenAPI path templates: the
 * one list the server dispatches by (ops-server.ts finds a request's route
 * here, then switches on it) and that docs/openapi.yaml documents, path for
 * path (test/integration/openapi.test.ts holds the two equal). A path the
 * list does not have is a 404 `no route GET …`.
 *
 * `{name}` stands for one path segment, still percent-encoded (the route
 * decodes it). A route with `restOfPath` takes the rest of the path in its
 * last parameter, slashes included: the console's files in subfolders.
 * `guarded` routes need `Authorization: Bearer $OPS_TOKEN` when OPS_TOKEN is
 * set; the others are open (probes, metrics, and the console's files, which
 * hold no data).
 */

interface RouteDefinition {
  readonly path: string;
  readonly guarded: boolean;
  readonly restOfPath?: true;
}

export const opsRoutes = [
  { path: '/healthz', guarded: false },
  { path: '/readyz', guarded: false },
  { path: '/metrics', guarded: false },
  { path: '/orders/{orderId}', guarded: true },
  { path: '/orders/{orderId}/ledger', guarded: true },
  { path: '/orders/{orderId}/timeline', guarded: true },
  { path: '/providers/{providerId}', guarded: true },
  { path: '/liquidity', guarded: true },
  { path: '/reconciliation', guarded: true },
  { path: '/reconciliation/last', guarded: true },
  { path: '/reconciliation/gateway/runs', guarded: true },
  { path: '/attention', guarded: true },
  { path: '/attention/dead-letters', guarded: true },
  { path: '/console', guarded: false },
  { path: '/console/', guarded: false },
  { path: '/console/{file}', guarded: false, restOfPath: true },
] as const satisfies readonly RouteDefinition[];

export type OpsRoute = (typeof opsRoutes)[number];
export type OpsRoutePath = OpsRoute['path'];

/** A request's route and its path parameters, as they were in the URL (percent-encoded). */
export interface RouteMatch<Path extends OpsRoutePath = OpsRoutePath> {
  readonly route: Path;
  readonly guarded: boolean;
  readonly parameters: Readonly<Record<string, string>>;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^$()|[\]\\]/g, '\\$&');

const compiled = opsRoutes.map((route: RouteDefinition) => {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[A-Za-z]+\})/)
    .map((part) => {
      const name = /^\{([A-Za-z]+)\}$/.exec(part)?.[1];
      if (name === undefined) return escapeRegExp(part);
      names.push(name);
      return route.restOfPath && route.path.endsWith(part) ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { route, names, pattern: new RegExp(`^${source}$`) };
});

/** The route a URL path (its pathname, still percent-encoded) is answered by; undefined when none. */
export function matchRoute(urlPath: string): RouteMatch | undefined {
  for (const { route, names, pattern } of compiled) {
    const values = pattern.exec(urlPath);
    if (values === null) continue;
    return {
      route: route.path as OpsRoutePath,
      guarded: route.guarded,
      parameters: Object.fromEntries(names.map((name, index) => [name, values[index + 1]!])),
    };
  }
  return undefined;
}
