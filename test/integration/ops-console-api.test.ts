/**
 * The console's read routes over the real HTTP server and Postgres, the money
 * made through the one path: an order's timeline (an event kept before its
 * order then replayed, a funding, a rejected event, a release with its payout
 * request, the payout settled PAID; every line linked to its cause and
 * balances as of a line's moment), the attention page's lists (a milestone
 * funded and not released, a payout failed with its retry command, a payment
 * waiting for an order that never came), the last reconciliation (none run in
 * this process), the console's static files served without the token, and
 * the data routes refused without it.
 */
import { milestone, openOrder, payment, reached } from '../support/contract-pipeline';
import { useContractPipeline } from '../support/contract-pipeline';
import { outboxOf } from '../support/contract-rows';
import { deliverNow, settlement, useOpsViewsServer } from '../support/ops-views-server';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date());
const ops = useOpsViewsServer(ctx);

type Line = Record<string, unknown> & { id: string; line: string; causedBy: string | null };

let payoutId = '';
let failedPayoutId = '';

beforeAll(async () => {
  // The payment arrives before its order: kept, then replayed when the order opens.
  await deliverNow(pipeline, payment('o-tl', 'm-1', '250.00', 'ch-tl-1'));
  await deliverNow(
    pipeline,
    openOrder('o-tl', [milestone('m-1', '250.00'), milestone('m-2', '100.00')]),
  );
  await deliverNow(pipeline, reached('o-tl', 'm-9'));
  await deliverNow(pipeline, reached('o-tl', 'm-1'));
  payoutId = (await outboxOf(ctx.db, 'o-tl')).find((row) => row.type === 'PAYOUT_REQUESTED')!
    .payload.outcomeId as string;
  await deliverNow(
    pipeline,
    settlement('PAYOUT_PAID', 'o-tl', {
      outcomeId: payoutId,
      gatewayReference: 'tr-tl',
      amount: '225.00',
    }),
  );
  await deliverNow(pipeline, payment('o-tl', 'm-2', '40.00', 'ch-tl-2', { kind: 'INSTALLMENT' }));

  await deliverNow(pipeline, openOrder('o-failed', [milestone('m-1', '80.00')]));
  await deliverNow(pipeline, payment('o-failed', 'm-1', '80.00', 'ch-failed'));
  await deliverNow(pipeline, reached('o-failed', 'm-1'));
  failedPayoutId = (await outboxOf(ctx.db, 'o-failed')).find(
    (row) => row.type === 'PAYOUT_REQUESTED',
  )!.payload.outcomeId as string;
  await deliverNow(
    pipeline,
    settlement('PAYOUT_FAILED', 'o-failed', {
      outcomeId: failedPayoutId,
      gatewayReference: 'tr-failed',
      amount: '72.00',
      reason: 'ACCOUNT_CLOSED',
    }),
  );
  await deliverNow(pipeline, payment('o-never', 'm-1', '9.99', 'ch-never'));
});

test('an order timeline: every inbound event, transaction, outcome and settlement, linked to its cause', async () => {
  const { status, body } = await ops.get('/orders/o-tl/timeline');
  expect(status).toBe(200);
  expect(body).toMatchObject({ orderId: 'o-tl', currency: 'USD', outboxRetentionDays: 7 });
  expect(body.outcomesMayBePruned).toBe(false);
  const lines = body.lines as Line[];
  const byId = new Map(lines.map((line) => [line.id, line]));
  const at = lines.map((line) => line.at as string);
  expect([...at].sort()).toEqual(at);

  const events = lines.filter((line) => line.line === 'event');
  expect(events.map((line) => [line.eventId, line.outcome, line.reason])).toEqual([
    ['pay-ch-tl-1', 'APPLIED', null],
    ['open-o-tl', 'APPLIED', null],
    ['reached-o-tl-m-9', 'REJECTED', expect.any(String)],
    ['reached-o-tl-m-1', 'APPLIED', null],
    [expect.stringContaining('PAYOUT_PAID'), 'APPLIED', null],
    ['pay-ch-tl-2', 'APPLIED', null],
  ]);
  const kept = events[0]!.kept as { replayedAt: string | null; failedReason: string | null };
  expect(kept.replayedAt).toEqual(expect.stringMatching(/^\d{4}-/));
  expect(kept.failedReason).toBeNull();

  const transactions = lines.filter((line) => line.line === 'transaction');
  expect(transactions.map((line) => line.kind)).toContain('FUNDING');
  for (const transaction of transactions) {
    expect(byId.get(transaction.causedBy!)?.line).toBe('event');
    const entries = transaction.entries as { amount: string }[];
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const entry of entries) expect(entry.amount).toMatch(/^-?\d+\.\d{2}$/);
  }
  const release = transactions.find((line) => line.kind === 'RELEASE')!;
  expect(byId.get(release.causedBy!)?.eventId).toBe('reached-o-tl-m-1');

  const requested = lines.find((line) => line.id === `outcome:${payoutId}`)!;
  expect(requested).toMatchObject({ type: 'PAYOUT_REQUESTED', causedBy: release.id });
  expect(requested.request).toEqual({
    kind: 'PAYOUT',
    state: 'PAID',
    currency: 'USD',
    amount: '225.00',
  });
  const rejected = lines.find((line) => line.line === 'outcome' && line.type === 'EVENT_REJECTED')!;
  expect(byId.get(rejected.causedBy!)?.eventId).toBe('reached-o-tl-m-9');

  const settled = lines.find((line) => line.id === `settlement:${payoutId}`)!;
  expect(settled).toMatchObject({ state: 'PAID', amount: '225.00', reference: 'tr-tl' });
  expect((byId.get(settled.causedBy!) as Line).eventId).toEqual(
    expect.stringContaining('PAYOUT_PAID'),
  );

  // Balances as of the release's line include the release, and the later installment not.
  const asOf = await ops.get(`/orders/o-tl?asOf=${encodeURIComponent(release.at as string)}`);
  expect(asOf.status).toBe(200);
  const [m1, m2] = asOf.body.milestones as Record<string, string>[];
  expect(m1).toMatchObject({ funded: '250.00', held: '0.00', released: '250.00', fees: '25.00' });
  expect(m2).toMatchObject({ funded: '0.00' });
});

test('the timeline of an unknown order is a 404; parameters are refused', async () => {
  expect((await ops.get('/orders/nope/timeline')).status).toBe(404);
  const refused = await ops.get('/orders/o-tl/timeline?asOf=2026-01-01T00:00:00Z');
  expect(refused).toMatchObject({ status: 400, body: { parameter: 'asOf' } });
});

test('attention: stuck funds by age, open requests, waiting payments and events', async () => {
  const { status, body } = await ops.get('/attention?limit=5');
  expect(status).toBe(200);
  const stuck = body.stuckFunds as {
    buckets: {
      label: string;
      milestones: number;
      amounts: { currency: string; amount: string }[];
    }[];
    oldest: Record<string, unknown>[];
    holding: number;
  };
  expect(stuck.buckets[0]).toMatchObject({
    label: '< 1d',
    milestones: 1,
    amounts: [{ currency: 'USD', amount: '40.00' }],
  });
  expect(stuck.oldest).toEqual([
    expect.objectContaining({
      orderId: 'o-tl',
      milestoneId: 'm-2',
      state: 'PARTIALLY_FUNDED',
      held: '40.00',
    }),
  ]);
  const requests = body.requests as { requests: Record<string, unknown>[] };
  expect(requests.requests).toEqual([
    expect.objectContaining({
      outcomeId: failedPayoutId,
      state: 'FAILED',
      amount: '72.00',
      failureReason: 'ACCOUNT_CLOSED',
      retryCommand: `escrow-worker payouts retry --outcome ${failedPayoutId}`,
    }),
  ]);
  expect(body.pendingPayments).toMatchObject({
    count: 1,
    oldest: [{ orderId: 'o-never', amount: '9.99', orderKnown: false }],
  });
  expect(body.keptEvents).toMatchObject({ count: 1, oldest: [{ orderId: 'o-never' }] });
  expect(body.gatewayReconciliation).toEqual({ lastRuns: [], unexplained: [] });
  expect((await ops.get('/attention?limit=0')).status).toBe(400);
});

test('the last reconciliation: none run by this process yet', async () => {
  const { status, body } = await ops.get('/reconciliation/last');
  expect(status).toBe(200);
  expect(body.ranAt).toBeNull();
  expect(body.report).toBeNull();
  expect(typeof body.keptSince).toBe('string');
});

test('dead letters need Kafka, which this server has not', async () => {
  expect((await ops.get('/attention/dead-letters')).status).toBe(503);
});

test('the console files are served without the token, the data routes refused without it', async () => {
  for (const path of ['/orders/o-tl/timeline', '/attention', '/reconciliation/last']) {
    expect((await ops.get(path, {})).status).toBe(401);
  }
  const base = ops.base();
  const page = await fetch(`${base}/console/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toContain('text/html');
  expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  const script = await fetch(`${base}/console/app.js`);
  expect(script.headers.get('content-type')).toContain('text/javascript');
  expect((await fetch(`${base}/console/../package.json`)).status).toBe(404);
  expect((await fetch(`${base}/console/.env`)).status).toBe(404);
  const bare = await fetch(`${base}/console`, { redirect: 'manual' });
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe('/console/');
});
