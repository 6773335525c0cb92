/**
 * GET /providers/{providerId} over the real HTTP server and Postgres, its
 * money made through the one path: a payout paid, one failed, a chargeback of
 * released money (a receivable), a release that nets it, a payout in JPY, and
 * the failed payout asked for again. Each figure worked out by hand, now and
 * at moments between the steps; an unknown provider, one before its first
 * order, a bad asOf or limit, and a missing token.
 */
import {
  milestone,
  openOrder,
  payment,
  reached,
  useContractPipeline,
} from '../support/contract-pipeline';
import { outboxMark, outboxOf } from '../support/contract-rows';
import {
  deliverNow,
  momentBetweenSteps,
  settlement,
  useOpsViewsServer,
} from '../support/ops-views-server';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date());
const ops = useOpsViewsServer(ctx);
const providerId = 'p-views';
const payout: Record<'first' | 'failed' | 'netted' | 'yen' | 'retry', string> = {
  first: '',
  failed: '',
  netted: '',
  yen: '',
  retry: '',
};
const moments: Record<
  'beforeOrders' | 'requested' | 'paid' | 'chargedBack' | 'beforeRetry',
  string
> = { beforeOrders: '', requested: '', paid: '', chargedBack: '', beforeRetry: '' };

/** Opens, funds and releases a one-milestone order; the payout's outcome id. */
async function release(orderId: string, amount: string, currency = 'USD'): Promise<string> {
  await deliverNow(
    pipeline,
    openOrder(orderId, [milestone('m-1', amount)], { providerId, currency }),
  );
  await deliverNow(pipeline, payment(orderId, 'm-1', amount, `ch-${orderId}`, { currency }));
  const mark = await outboxMark(ctx.db, orderId);
  await deliverNow(pipeline, reached(orderId, 'm-1'));
  const requested = (await outboxOf(ctx.db, orderId, mark)).find(
    (row) => row.type === 'PAYOUT_REQUESTED',
  );
  return requested!.payload.outcomeId as string;
}

/** What `escrow-worker payouts retry` does (docs/settlements.md), which has no command yet. */
async function retryPayout(failed: string): Promise<string> {
  const retry = crypto.randomUUID();
  await ctx.db.transaction(async (trx) => {
    await trx('disbursements').where({ outcome_id: failed }).update({ state: 'RETRIED' });
    await trx.raw(
      `INSERT INTO disbursements (outcome_id, kind, order_id, milestone_id, party_id, currency,
         amount_minor, gross_minor, fee_minor, recovered_minor, ledger_transaction_id,
         root_outcome_id, retry_of, state, requested_at)
       SELECT ?, kind, order_id, milestone_id, party_id, currency, amount_minor, gross_minor,
         fee_minor, recovered_minor, ledger_transaction_id, root_outcome_id, outcome_id,
         'REQUESTED', now()
       FROM disbursements WHERE outcome_id = ?`,
      [retry, failed],
    );
  });
  return retry;
}

beforeAll(async () => {
  moments.beforeOrders = await momentBetweenSteps(ctx);
  // 1000.00 at 10 %: fee 100.00, net 900.00 asked.
  payout.first = await release('o-pv-1', '1000.00');
  moments.requested = await momentBetweenSteps(ctx);
  const paid = { outcomeId: payout.first, gatewayReference: 'tr-pv-1', amount: '900.00' };
  expect(await deliverNow(pipeline, settlement('PAYOUT_PAID', 'o-pv-1', paid))).toMatchObject({
    verdict: 'APPLIED',
  });
  // 500.00: net 450.00 asked.
  payout.failed = await release('o-pv-2', '500.00');
  moments.paid = await momentBetweenSteps(ctx);
  const failed = {
    outcomeId: payout.failed,
    gatewayReference: 'tr-pv-2',
    amount: '450.00',
    reason: 'ACCOUNT_CLOSED',
  };
  expect(await deliverNow(pipeline, settlement('PAYOUT_FAILED', 'o-pv-2', failed))).toMatchObject({
    verdict: 'APPLIED',
  });
  // 200.00 of o-pv-1's payment pulled back after release: fee 20.00 reversed, 180.00 owed.
  const chargeback = { gatewayReference: 'ch-o-pv-1', amount: '200.00' };
  expect(await deliverNow(pipeline, settlement('CHARGEBACK', 'o-pv-1', chargeback))).toMatchObject({
    verdict: 'APPLIED',
  });
  moments.chargedBack = await momentBetweenSteps(ctx);
  // 300.00: fee 30.00, 180.00 recovered first, 90.00 asked.
  payout.netted = await release('o-pv-3', '300.00');
  // ¥10000: fee ¥1000, ¥9000 asked.
  payout.yen = await release('o-pv-4', '10000', 'JPY');
  moments.beforeRetry = await momentBetweenSteps(ctx);
  payout.retry = await retryPayout(payout.failed);
});

const counted = (count: number, amount: string) => ({ count, amount });
const usd = (figures: {
  payable: string;
  requested: [number, string];
  paid: [number, string];
  failed: [number, string];
  receivable: string;
}) => ({
  currency: 'USD',
  payable: figures.payable,
  payoutsRequested: counted(...figures.requested),
  paidOut: counted(...figures.paid),
  failedPayouts: counted(...figures.failed),
  receivable: figures.receivable,
});
const at = (moment: string, query = '') =>
  ops.get(`/providers/${providerId}?asOf=${encodeURIComponent(moment)}${query}`);

test('now: payable is what is asked and what failed; paid out, receivable recovered, JPY apart', async () => {
  const { status, body } = await ops.get(`/providers/${providerId}`);
  expect(status).toBe(200);
  expect(body).not.toHaveProperty('asOf');
  expect(body.currencies).toEqual([
    {
      currency: 'JPY',
      payable: '9000',
      payoutsRequested: counted(1, '9000'),
      paidOut: counted(0, '0'),
      failedPayouts: counted(0, '0'),
      receivable: '0',
    },
    // 450.00 failed and asked again + 90.00 asked = 540.00 payable.
    usd({
      payable: '540.00',
      requested: [2, '540.00'],
      paid: [1, '900.00'],
      failed: [0, '0.00'],
      receivable: '0.00',
    }),
  ]);
  const payouts = body.payouts as Record<string, unknown>[];
  expect(payouts.map((row) => [row.outcomeId, row.state])).toEqual([
    [payout.retry, 'REQUESTED'],
    [payout.yen, 'REQUESTED'],
    [payout.netted, 'REQUESTED'],
    [payout.failed, 'RETRIED'],
    [payout.first, 'PAID'],
  ]);
  expect(payouts[2]).toMatchObject({
    orderId: 'o-pv-3',
    milestoneId: 'm-1',
    currency: 'USD',
    grossAmount: '300.00',
    feeAmount: '30.00',
    recoveredAmount: '180.00',
    netAmount: '90.00',
    settledAt: null,
    retryOf: null,
    retriedBy: null,
  });
  expect(payouts[3]).toMatchObject({
    netAmount: '450.00',
    failureReason: 'ACCOUNT_CLOSED',
    settlementReference: 'tr-pv-2',
    retriedBy: payout.retry,
  });
  expect(payouts[0]).toMatchObject({ netAmount: '450.00', retryOf: payout.failed });
  expect(payouts[4]).toMatchObject({
    grossAmount: '1000.00',
    feeAmount: '100.00',
    recoveredAmount: '0.00',
    netAmount: '900.00',
    state: 'PAID',
    failureReason: null,
    settlementReference: 'tr-pv-1',
    settledAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as string,
  });
  expect(body.morePayouts).toBe(false);
});

test('between steps: each moment shows the figures and payout states of then', async () => {
  const requested = await at(moments.requested);
  expect(requested.body).toMatchObject({
    providerId,
    asOf: moments.requested,
    currencies: [
      usd({
        payable: '900.00',
        requested: [1, '900.00'],
        paid: [0, '0.00'],
        failed: [0, '0.00'],
        receivable: '0.00',
      }),
    ],
  });
  expect(requested.body.payouts).toEqual([
    expect.objectContaining({ outcomeId: payout.first, state: 'REQUESTED', settledAt: null }),
  ]);
  expect((requested.body.payouts as Record<string, unknown>[])[0]).toMatchObject({
    settlementReference: null,
    failureReason: null,
  });

  const paid = await at(moments.paid);
  expect(paid.body.currencies).toEqual([
    usd({
      payable: '450.00',
      requested: [1, '450.00'],
      paid: [1, '900.00'],
      failed: [0, '0.00'],
      receivable: '0.00',
    }),
  ]);

  // Failed, and 180.00 owed after the chargeback; the JPY order did not exist yet.
  const chargedBack = await at(moments.chargedBack);
  expect(chargedBack.body.currencies).toEqual([
    usd({
      payable: '450.00',
      requested: [0, '0.00'],
      paid: [1, '900.00'],
      failed: [1, '450.00'],
      receivable: '180.00',
    }),
  ]);
  expect(
    (chargedBack.body.payouts as Record<string, unknown>[]).map((row) => [
      row.outcomeId,
      row.state,
      row.failureReason,
    ]),
  ).toEqual([
    [payout.failed, 'FAILED', 'ACCOUNT_CLOSED'],
    [payout.first, 'PAID', null],
  ]);

  // Before the retry: the failed payout still failed, not yet asked again.
  const beforeRetry = await at(moments.beforeRetry);
  expect((beforeRetry.body.currencies as unknown[])[1]).toEqual(
    usd({
      payable: '540.00',
      requested: [1, '90.00'],
      paid: [1, '900.00'],
      failed: [1, '450.00'],
      receivable: '0.00',
    }),
  );
  const failedThen = (beforeRetry.body.payouts as Record<string, unknown>[]).find(
    (row) => row.outcomeId === payout.failed,
  );
  expect(failedThen).toMatchObject({ state: 'FAILED', retriedBy: null });
});

test('limit: the newest payouts, and whether older ones were left out', async () => {
  const newest = await ops.get(`/providers/${providerId}?limit=2`);
  expect((newest.body.payouts as { outcomeId: string }[]).map((row) => row.outcomeId)).toEqual([
    payout.retry,
    payout.yen,
  ]);
  expect(newest.body.morePayouts).toBe(true);
  const paid = await at(moments.paid, '&limit=2');
  expect(paid.body.morePayouts).toBe(false);
  for (const limit of ['0', '1001', 'ten', '-1']) {
    expect(await ops.get(`/providers/${providerId}?limit=${limit}`)).toEqual({
      status: 400,
      body: {
        parameter: 'limit',
        error: `limit "${limit}" is not a whole number from 1 to 1000: write e.g. limit=100`,
      },
    });
  }
});

test('unknown, not yet known, bad asOf, no token', async () => {
  expect(await ops.get('/providers/nobody')).toEqual({
    status: 404,
    body: { error: 'no provider "nobody": no order names it as its provider' },
  });
  const early = await at(moments.beforeOrders);
  expect(early.status).toBe(404);
  expect(early.body.error).toMatch(
    new RegExp(
      `^provider "${providerId}" had no order at ${moments.beforeOrders.replace(/\./g, '\\.')}: ` +
        'its first was recorded at \\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z; ask for a moment at or after that',
    ),
  );
  const bad = await ops.get(`/providers/${providerId}?asOf=2026-06-31T00:00:00Z`);
  expect(bad).toEqual({
    status: 400,
    body: {
      parameter: 'asOf',
      error:
        'asOf "2026-06-31T00:00:00Z" is not a real moment: 2026-06 has no day 31; ' +
        'write e.g. asOf=2026-06-01T09:30:00Z',
    },
  });
  const refused = await ops.get(`/providers/${providerId}`, {});
  expect(refused.status).toBe(401);
  expect((await ops.get('/providers/nobody', { Authorization: 'Bearer wrong' })).status).toBe(401);
});
