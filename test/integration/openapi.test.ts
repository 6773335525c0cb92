/**
 * docs/openapi.yaml against the server that answers: a whole worker
 * in-process with OPS_TOKEN set, over a story made through the one path (an
 * order funded, released, its payout paid and the payment charged back, a
 * second milestone part-funded,
 * a payout failed, a payment waiting for an order that never came), a gateway
 * reconciliation recorded with a difference, a message dead-lettered through
 * Kafka and one reconciliation run. The document's paths are the route list
 * the server dispatches by (src/ops/routes.ts); every path is asked with real
 * values and answers with a documented status, content type and headers, its
 * JSON body valid against the documented schema; HEAD answers as GET and
 * other methods 405; the guarded routes declare the bearer scheme and answer
 * 401 without the token, the open ones answer without it; the limits and the
 * asOf pattern are the ones the server applies. A server of the views alone
 * (no Kafka client) gives the dead letters' 503.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Kafka, logLevel } from 'kafkajs';
import { parse } from 'yaml';
import { plainFormat } from '../../src/gateway-reconciliation/formats';
import {
  finishRecordedRun,
  recordDifferences,
  startRecordedRun,
} from '../../src/gateway-reconciliation/record';
import { reconcileGateway } from '../../src/gateway-reconciliation/run';
import type { GatewayDifference } from '../../src/gateway-reconciliation/summarize';
import { createLogger } from '../../src/logging/logger';
import { opsRoutes, type OpsRoutePath } from '../../src/ops/routes';
import { type RunningWorker, startWorker } from '../../src/worker';
import { milestone, openOrder, payment, reached } from '../support/contract-pipeline';
import { useContractPipeline } from '../support/contract-pipeline';
import { outboxOf } from '../support/contract-rows';
import { randomOpsPort } from '../support/ops-port';
import {
  deliverNow,
  momentBetweenSteps,
  opsToken as viewsServerToken,
  settlement,
  useOpsViewsServer,
} from '../support/ops-views-server';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

// ---- the document ----

interface Schema {
  [keyword: string]: unknown;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query';
  required?: boolean;
  schema: Schema;
  examples?: Record<string, { value: string }>;
}
interface Header {
  $ref?: string;
  schema: Schema;
}
interface DocumentedResponse {
  $ref?: string;
  headers?: Record<string, Header>;
  content?: Record<string, { schema: Schema }>;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  responses: Record<string, DocumentedResponse>;
}
interface Document {
  openapi: string;
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, Record<string, string>>;
    parameters: Record<string, Parameter>;
    headers: Record<string, Header>;
    responses: Record<string, DocumentedResponse>;
    schemas: Record<string, Schema>;
  };
}

const document = parse(
  readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'openapi.yaml'), 'utf8'),
) as Document;

const component = <T>(from: Record<string, T>, reference: { $ref?: string }): T => {
  if (reference.$ref === undefined) return reference as T;
  const name = reference.$ref.split('/').pop()!;
  expect([reference.$ref, from[name] !== undefined]).toEqual([reference.$ref, true]);
  return from[name]!;
};
const operationOf = (route: string) => document.paths[route]!.get!;
const parametersOf = (route: string) =>
  (operationOf(route).parameters ?? []).map((parameter) =>
    component(document.components.parameters, parameter),
  );
const responseOf = (route: string, status: number) => {
  const response = operationOf(route).responses[String(status)];
  return response === undefined ? undefined : component(document.components.responses, response);
};

// OpenAPI 3.1 schemas are JSON Schema 2020-12: the components become $defs of one schema.
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true, discriminator: true });
addFormats(ajv);
const toDefs = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(toDefs)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(
          Object.entries(value).map(([key, inner]) => [
            key,
            key === '$ref' && typeof inner === 'string'
              ? inner.replace('#/components/schemas/', 'openapi#/$defs/')
              : toDefs(inner),
          ]),
        )
      : value;
ajv.addSchema({ $id: 'openapi', $defs: toDefs(document.components.schemas) });
const validators = new Map<Schema, ValidateFunction>();
function validate(schema: Schema, value: unknown): string[] {
  let check = validators.get(schema);
  if (check === undefined) {
    check = ajv.compile(toDefs(schema) as Schema);
    validators.set(schema, check);
  }
  return check(value)
    ? []
    : (check.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

// ---- the server and the story ----

const token = 'openapi-test-token-5c2d81f0';
const port = randomOpsPort();
const ctx = useTestContext({ OPS_PORT: String(port), OPS_TOKEN: token });
const pipeline = useContractPipeline(ctx, new Date());
const viewsServer = useOpsViewsServer(ctx);
const base = `http://127.0.0.1:${port}`;
const withToken = { Authorization: `Bearer ${token}` };
let worker: RunningWorker;
let moment = '';

async function recordGatewayRun(): Promise<void> {
  const folder = mkdtempSync(path.join(tmpdir(), 'openapi-gateway-'));
  const file = path.join(folder, 'stripe.csv');
  const at = new Date().toISOString();
  writeFileSync(
    file,
    [
      'gateway_reference,type,amount,currency,occurred_at',
      `ch-api-1,charge,300.00,USD,${at}`,
      `ch-only-in-file,charge,12.00,USD,${at}`,
    ].join('\n'),
  );
  await reconcileGateway(
    ctx.db,
    {
      gateway: 'stripe',
      file,
      format: plainFormat,
      from: new Date(Date.now() - 3_600_000),
      to: new Date(Date.now() + 60_000),
      toleranceMs: 1000,
    },
    async (summary, differences, trx) => {
      const runId = await startRecordedRun(trx, summary);
      const found: GatewayDifference[] = [];
      for await (const difference of differences()) found.push(difference);
      const recorded = await recordDifferences(trx, runId, 'stripe', found);
      await finishRecordedRun(trx, runId, {
        newDifferences: recorded.filter((difference) => difference.isNew).length,
        explained: 0,
      });
    },
  );
}

const payoutOf = async (orderId: string) =>
  (await outboxOf(ctx.db, orderId)).find((row) => row.type === 'PAYOUT_REQUESTED')!.payload
    .outcomeId as string;

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));

  await deliverNow(
    pipeline,
    openOrder('o-api', [milestone('m-1', '300.00'), milestone('m-2', '200.00')], {
      providerId: 'p-api',
    }),
  );
  await deliverNow(pipeline, payment('o-api', 'm-1', '300.00', 'ch-api-1'));
  moment = await momentBetweenSteps(ctx);
  await deliverNow(pipeline, reached('o-api', 'm-1'));
  await deliverNow(
    pipeline,
    settlement('PAYOUT_PAID', 'o-api', {
      outcomeId: await payoutOf('o-api'),
      gatewayReference: 'tr-api',
      amount: '270.00',
    }),
  );
  await deliverNow(pipeline, payment('o-api', 'm-2', '50.00', 'ch-api-2', { kind: 'INSTALLMENT' }));
  await deliverNow(
    pipeline,
    openOrder('o-failed', [milestone('m-1', '80.00')], { providerId: 'p-api' }),
  );
  await deliverNow(pipeline, payment('o-failed', 'm-1', '80.00', 'ch-failed'));
  await deliverNow(pipeline, reached('o-failed', 'm-1'));
  await deliverNow(
    pipeline,
    settlement('PAYOUT_FAILED', 'o-failed', {
      outcomeId: await payoutOf('o-failed'),
      gatewayReference: 'tr-failed',
      amount: '72.00',
      reason: 'ACCOUNT_CLOSED',
    }),
  );
  // Charged back after the release: the provider owes it back (a receivable).
  await deliverNow(
    pipeline,
    settlement('CHARGEBACK', 'o-api', {
      gatewayReference: 'ch-api-1',
      amount: '300.00',
      milestoneId: null,
    }),
  );
  await deliverNow(pipeline, payment('o-never', 'm-1', '9.99', 'ch-never'));
  // Waiting two hours for its order: past reconciliation's hour, a discrepancy with its example.
  await ctx
    .db('payments')
    .where({ gateway_reference: 'ch-never' })
    .update({ received_at: ctx.db.raw("now() - interval '2 hours'") });
  await recordGatewayRun();

  // Not Avro: the worker dead-letters it.
  const producer = new Kafka({
    brokers: ctx.config.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  }).producer();
  await producer.connect();
  await producer.send({
    topic: `${ctx.config.TOPIC_PREFIX}escrow.milestone-reached.v1`,
    messages: [{ key: 'o-api', value: Buffer.from('not an Avro message') }],
  });
  await producer.disconnect();

  const get = (route: string) => fetch(`${base}${route}`, { headers: withToken });
  await waitUntil(async () => (await get('/readyz')).status === 200, 45_000, 'the worker ready');
  await waitUntil(
    async () =>
      ((await (await get('/attention/dead-letters')).json()) as { total: number }).total > 0,
    60_000,
    'a dead letter listed',
  );
  expect((await get('/reconciliation')).status).toBe(200);
}, 180_000);

ctx.beforeTeardown(async () => {
  await worker?.stop();
});

// ---- what is asked ----

interface Exchange {
  route: OpsRoutePath;
  path?: Record<string, string>;
  query?: Record<string, string>;
  status: number;
  /** The server of the views alone, without Kafka (test/support/ops-views-server.ts). */
  viewsServer?: true;
}

const exchanges = (): Exchange[] => [
  { route: '/healthz', status: 200 },
  { route: '/readyz', status: 200 },
  { route: '/metrics', status: 200 },
  { route: '/orders/{orderId}', path: { orderId: 'o-api' }, status: 200 },
  { route: '/orders/{orderId}', path: { orderId: 'o-api' }, query: { asOf: moment }, status: 200 },
  { route: '/orders/{orderId}', path: { orderId: 'o-nowhere' }, status: 404 },
  {
    route: '/orders/{orderId}',
    path: { orderId: 'o-api' },
    query: { asOf: '2026-06-01' },
    status: 400,
  },
  { route: '/orders/{orderId}', path: { orderId: 'o-%E0%A4%A' }, status: 400 },
  { route: '/orders/{orderId}/ledger', path: { orderId: 'o-api' }, status: 200 },
  { route: '/orders/{orderId}/ledger', path: { orderId: 'o-nowhere' }, status: 404 },
  {
    route: '/orders/{orderId}/ledger',
    path: { orderId: 'o-api' },
    query: { asOf: moment },
    status: 400,
  },
  { route: '/orders/{orderId}/timeline', path: { orderId: 'o-api' }, status: 200 },
  { route: '/orders/{orderId}/timeline', path: { orderId: 'o-nowhere' }, status: 404 },
  {
    route: '/orders/{orderId}/timeline',
    path: { orderId: 'o-api' },
    query: { limit: '5' },
    status: 400,
  },
  { route: '/providers/{providerId}', path: { providerId: 'p-api' }, status: 200 },
  {
    route: '/providers/{providerId}',
    path: { providerId: 'p-api' },
    query: { asOf: moment, limit: '1' },
    status: 200,
  },
  { route: '/providers/{providerId}', path: { providerId: 'p-nowhere' }, status: 404 },
  {
    route: '/providers/{providerId}',
    path: { providerId: 'p-api' },
    query: { as_of: moment },
    status: 400,
  },
  { route: '/liquidity', status: 200 },
  { route: '/liquidity', query: { asOf: moment }, status: 200 },
  { route: '/liquidity', query: { asOf: '2999-01-01T00:00:00Z' }, status: 400 },
  { route: '/reconciliation', status: 200 },
  { route: '/reconciliation', query: { format: 'text' }, status: 200 },
  { route: '/reconciliation/last', status: 200 },
  { route: '/reconciliation/last', query: { limit: '1' }, status: 400 },
  { route: '/reconciliation/gateway/runs', status: 200 },
  { route: '/reconciliation/gateway/runs', query: { gateway: 'stripe', limit: '5' }, status: 200 },
  { route: '/reconciliation/gateway/runs', query: { limit: 'ten' }, status: 400 },
  { route: '/attention', status: 200 },
  { route: '/attention', query: { limit: '1' }, status: 200 },
  { route: '/attention', query: { asOf: moment }, status: 400 },
  { route: '/attention/dead-letters', query: { limit: '10' }, status: 200 },
  { route: '/attention/dead-letters', query: { limit: '0' }, status: 400 },
  { route: '/attention/dead-letters', status: 503, viewsServer: true },
  { route: '/console', status: 301 },
  { route: '/console/', status: 200 },
  { route: '/console/{file}', path: { file: 'app.js' }, status: 200 },
  { route: '/console/{file}', path: { file: 'console.css' }, status: 200 },
  { route: '/console/{file}', path: { file: 'index.html' }, status: 200 },
  { route: '/console/{file}', path: { file: 'missing.js' }, status: 404 },
];

/** The first exchange of each route. */
const firstOfEach = (): Map<OpsRoutePath, Exchange> => {
  const first = new Map<OpsRoutePath, Exchange>();
  for (const exchange of exchanges())
    if (!first.has(exchange.route)) first.set(exchange.route, exchange);
  return first;
};

const urlOf = (exchange: Pick<Exchange, 'route' | 'path' | 'query'>) => {
  const filled = exchange.route.replace(/\{(\w+)\}/g, (_, name: string) => exchange.path![name]!);
  const query = new URLSearchParams(exchange.query ?? {}).toString();
  return `${filled}${query ? `?${query}` : ''}`;
};

async function ask(
  exchange: Exchange,
  options: { method?: string; headers?: Record<string, string> } = {},
) {
  const server = exchange.viewsServer ? viewsServer.base() : base;
  const headers =
    options.headers ??
    (exchange.viewsServer ? { Authorization: `Bearer ${viewsServerToken}` } : withToken);
  const response = await fetch(`${server}${urlOf(exchange)}`, {
    method: options.method ?? 'GET',
    headers,
    redirect: 'manual',
  });
  return { response, text: await response.text() };
}

const mediaType = (response: Response) =>
  (response.headers.get('content-type') ?? '').split(';')[0]!.trim();

/** What is wrong with an answer by the documented response; empty when nothing is. */
function problemsOf(
  documented: DocumentedResponse | undefined,
  response: Response,
  text: string,
): string[] {
  if (documented === undefined) return [`status ${response.status} is not documented`];
  const problems: string[] = [];
  for (const [name, reference] of Object.entries(documented.headers ?? {})) {
    const header = component(document.components.headers, reference);
    const value = response.headers.get(name);
    if (value === null) problems.push(`no ${name} header`);
    else problems.push(...validate(header.schema, value).map((error) => `${name}: ${error}`));
  }
  if (documented.content === undefined) return problems;
  const media = documented.content[mediaType(response)];
  if (media === undefined) return [...problems, `content type ${mediaType(response)}`];
  const body: unknown = mediaType(response) === 'application/json' ? JSON.parse(text) : text;
  return [...problems, ...validate(media.schema, body)];
}

// ---- the tests ----

test('the story reaches every part of the documented shapes: no list the schemas check is empty', async () => {
  const body = async (route: string): Promise<unknown> =>
    (await fetch(`${base}${route}`, { headers: withToken })).json();
  const timeline = (await body('/orders/o-api/timeline')) as { lines: { line: string }[] };
  expect(new Set(timeline.lines.map((line) => line.line))).toEqual(
    new Set(['event', 'transaction', 'outcome', 'settlement']),
  );
  const attention = (await body('/attention')) as Record<string, Record<string, unknown[]>>;
  for (const [part, list] of [
    ['stuckFunds', 'oldest'],
    ['requests', 'requests'],
    ['receivables', 'providers'],
    ['keptEvents', 'oldest'],
    ['pendingPayments', 'oldest'],
    ['gatewayReconciliation', 'lastRuns'],
    ['gatewayReconciliation', 'unexplained'],
  ] as const) {
    expect([part, list, attention[part]![list]!.length > 0]).toEqual([part, list, true]);
  }
  const provider = (await body('/providers/p-api')) as { payouts: { state: string }[] };
  expect(provider.payouts.map((payout) => payout.state).sort()).toEqual(['FAILED', 'PAID']);
  const deadLetters = (await body('/attention/dead-letters')) as { entries: unknown[] };
  expect(deadLetters.entries.length).toBeGreaterThan(0);
  const last = (await body('/reconciliation/last')) as {
    report: {
      checks: { ageBuckets?: unknown[]; receivableAgeBuckets?: unknown[]; examples: unknown[] }[];
    };
  };
  expect(last.report.checks.some((check) => check.ageBuckets?.length)).toBe(true);
  expect(last.report.checks.some((check) => check.receivableAgeBuckets?.length)).toBe(true);
  expect(last.report.checks.some((check) => check.examples.length > 0)).toBe(true);
});

test('the document is OpenAPI 3.1 and its paths are the routes the server dispatches', () => {
  expect(document.openapi).toMatch(/^3\.1\./);
  expect(Object.keys(document.paths).sort()).toEqual(opsRoutes.map((route) => route.path).sort());
  for (const [route, item] of Object.entries(document.paths)) {
    expect([route, Object.keys(item)]).toEqual([route, ['get']]);
    const inPath = [...route.matchAll(/\{(\w+)\}/g)].map((found) => found[1]);
    const documented = parametersOf(route).filter((parameter) => parameter.in === 'path');
    expect([route, documented.map((parameter) => [parameter.name, parameter.required])]).toEqual([
      route,
      inPath.map((name) => [name, true]),
    ]);
  }
});

test('every documented path is served: documented status, content type, headers and schema', async () => {
  const asked = exchanges();
  const seen = new Map<string, Set<number>>();
  for (const exchange of asked) {
    const { response, text } = await ask(exchange);
    const where = `GET ${urlOf(exchange)}`;
    expect([where, response.status]).toEqual([where, exchange.status]);
    if (mediaType(response) === 'application/json' && text !== '') {
      expect([where, (JSON.parse(text) as { error?: string }).error ?? '']).not.toEqual([
        where,
        expect.stringMatching(/^no route/),
      ]);
    }
    expect([
      where,
      problemsOf(responseOf(exchange.route, response.status), response, text),
    ]).toEqual([where, []]);
    // The parameters of a request answered 2xx or 3xx are documented and keep their rules.
    if (response.status < 400) {
      const documented = parametersOf(exchange.route);
      for (const [name, value] of Object.entries({ ...exchange.path, ...exchange.query })) {
        const parameter = documented.find((candidate) => candidate.name === name);
        expect([where, name, parameter !== undefined]).toEqual([where, name, true]);
        const typed = parameter!.schema.type === 'integer' ? Number(value) : value;
        expect([where, name, validate(parameter!.schema, typed)]).toEqual([where, name, []]);
      }
    }
    seen.set(exchange.route, (seen.get(exchange.route) ?? new Set()).add(exchange.status));
  }
  // Every documented status was answered, but 401 (the next test), 500 (a failure) and a
  // worker not ready (its dependencies are up).
  for (const route of Object.keys(document.paths)) {
    const statuses = Object.keys(operationOf(route).responses)
      .map(Number)
      .filter((status) => status !== 401 && status !== 500)
      .filter((status) => !(route === '/readyz' && status === 503));
    expect([route, [...(seen.get(route) ?? [])].sort()]).toEqual([route, statuses.sort()]);
  }
});

test('the guarded routes declare the bearer scheme and answer 401 without the token; the open ones need none', async () => {
  expect(document.components.securitySchemes.opsToken).toMatchObject({
    type: 'http',
    scheme: 'bearer',
  });
  const sample = firstOfEach();
  for (const route of opsRoutes) {
    const security = operationOf(route.path).security ?? document.security;
    const exchange = sample.get(route.path)!;
    if (route.guarded) {
      expect([route.path, security]).toEqual([route.path, [{ opsToken: [] }]]);
      for (const headers of [{}, { Authorization: 'Bearer not-the-token-at-all' }] as Record<
        string,
        string
      >[]) {
        const { response, text } = await ask(exchange, { headers });
        expect([route.path, response.status]).toEqual([route.path, 401]);
        expect([route.path, problemsOf(responseOf(route.path, 401), response, text)]).toEqual([
          route.path,
          [],
        ]);
      }
    } else {
      expect([route.path, security]).toEqual([route.path, []]);
      const { response } = await ask(exchange, { headers: {} });
      expect([route.path, response.status]).toEqual([route.path, exchange.status]);
    }
  }
});

test('HEAD answers as GET without a body; any other method is 405 as documented', async () => {
  const methodNotAllowed = document.components.responses.MethodNotAllowed;
  for (const exchange of firstOfEach().values()) {
    const where = urlOf(exchange);
    const got = await ask(exchange);
    const head = await ask(exchange, { method: 'HEAD' });
    expect([where, head.response.status, mediaType(head.response), head.text]).toEqual([
      where,
      got.response.status,
      mediaType(got.response),
      '',
    ]);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const { response, text } = await ask(exchange, { method });
      expect([method, where, response.status]).toEqual([method, where, 405]);
      expect([method, where, problemsOf(methodNotAllowed, response, text)]).toEqual([
        method,
        where,
        [],
      ]);
    }
  }
});

test('each documented limit is the one the server applies: its maximum answered, one more refused', async () => {
  const sample = new Map(
    exchanges()
      .filter((exchange) => exchange.status === 200 && !exchange.viewsServer)
      .map((exchange) => [exchange.route, exchange]),
  );
  let limits = 0;
  for (const [route, exchange] of sample) {
    for (const parameter of parametersOf(route)) {
      if (parameter.in !== 'query' || parameter.schema.type !== 'integer') continue;
      limits += 1;
      const { minimum, maximum } = parameter.schema as { minimum: number; maximum: number };
      const at = (value: number) =>
        ask({ ...exchange, query: { ...exchange.query, [parameter.name]: String(value) } });
      expect([route, (await at(maximum)).response.status]).toEqual([route, 200]);
      for (const outside of [minimum - 1, maximum + 1]) {
        const { response, text } = await at(outside);
        expect([route, outside, response.status]).toEqual([route, outside, 400]);
        expect(JSON.parse(text)).toMatchObject({ parameter: parameter.name });
      }
    }
  }
  expect(limits).toBe(4);
  // The defaults the two console lists say they used.
  const defaultOf = (route: string) =>
    parametersOf(route).find((parameter) => parameter.name === 'limit')!.schema.default;
  const attention = JSON.parse((await ask({ route: '/attention', status: 200 })).text) as {
    limit: number;
  };
  expect(attention.limit).toBe(defaultOf('/attention'));
  const deadLetters = JSON.parse(
    (await ask({ route: '/attention/dead-letters', status: 200 })).text,
  ) as { perPartition: number };
  expect(deadLetters.perPartition).toBe(defaultOf('/attention/dead-letters'));
});

test('asOf: the documented form is the one the server reads; what the pattern refuses, the server refuses', async () => {
  const asOf = document.components.parameters.asOf!;
  const routes = Object.keys(document.paths).filter((route) =>
    parametersOf(route).some((parameter) => parameter.name === 'asOf'),
  );
  expect(routes.sort()).toEqual(['/liquidity', '/orders/{orderId}', '/providers/{providerId}']);
  const at = (value: string) => ask({ route: '/liquidity', query: { asOf: value }, status: 200 });
  const readable = [
    ...Object.values(asOf.examples ?? {}).map((example) => example.value),
    '2026-06-01T09:30Z',
    '2026-06-01T11:30:00.123456789-02:00',
    moment,
  ];
  for (const value of readable) {
    expect([value, validate(asOf.schema, value)]).toEqual([value, []]);
    expect([value, (await at(value)).response.status]).toEqual([value, 200]);
  }
  const refused = ['2026-06-01', '2026-06-01T09:30:00', '2026-06-01 09:30:00Z', 'yesterday'];
  for (const value of refused) {
    expect([value, validate(asOf.schema, value).length > 0]).toEqual([value, true]);
    const { response, text } = await at(value);
    expect([value, response.status]).toEqual([value, 400]);
    expect(JSON.parse(text)).toMatchObject({ parameter: 'asOf' });
  }
});
