/**
 * GET /liquidity over the real HTTP server and Postgres, its money made
 * through the one path: three orders funded (USD and EUR), a dispute, a
 * release with its payout asked and then paid, a partial refund, and a
 * chargeback of released money. Each figure worked out by hand, now and at
 * moments between the steps; the clearing identity holds at each; the view of
 * now (running balances) equals the ledger read at now; bad asOf and no token.
 */
import {
  dispute,
  milestone,
  openOrder,
  payment,
  reached,
  refund,
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
const moments: Record<'beforeAll' | 'funded' | 'released', string> = {
  beforeAll: '',
  funded: '',
  released: '',
};

async function applied(...commands: Parameters<typeof deliverNow>[1][]) {
  for (const command of commands) {
    expect(await deliverNow(pipeline, command)).toMatchObject({ verdict: 'APPLIED' });
  }
}

beforeAll(async () => {
  moments.beforeAll = await momentBetweenSteps(ctx);
  await applied(
    openOrder('o-lq-1', [milestone('m-1', '1000.00'), milestone('m-2', '400.00')]),
    payment('o-lq-1', 'm-1', '1000.00', 'ch-lq-1'),
    payment('o-lq-1', 'm-2', '400.00', 'ch-lq-2'),
    openOrder('o-lq-2', [milestone('m-1', '600.00')]),
    payment('o-lq-2', 'm-1', '600.00', 'ch-lq-3'),
    openOrder('o-lq-eur', [milestone('m-1', '50.00')], { currency: 'EUR' }),
    payment('o-lq-eur', 'm-1', '50.00', 'ch-lq-eur', { currency: 'EUR' }),
  );
  moments.funded = await momentBetweenSteps(ctx);
  // m-2's 400.00 leaves the hold for disputed funds; m-1 releases 1000.00: 900.00 asked.
  await applied(dispute('DISPUTE_OPENED', 'o-lq-1', 'm-2'));
  const mark = await outboxMark(ctx.db, 'o-lq-1');
  await applied(reached('o-lq-1', 'm-1'));
  const requested = (await outboxOf(ctx.db, 'o-lq-1', mark)).find(
    (row) => row.type === 'PAYOUT_REQUESTED',
  )!;
  moments.released = await momentBetweenSteps(ctx);
  await applied(
    refund('o-lq-2', 'm-1', '200.00'),
    settlement('PAYOUT_PAID', 'o-lq-1', {
      outcomeId: requested.payload.outcomeId as string,
      gatewayReference: 'tr-lq-1',
      amount: '900.00',
    }),
    // 100.00 of m-1's released payment pulled back: fee 10.00 reversed, 90.00 owed by the provider.
    settlement('CHARGEBACK', 'o-lq-1', { gatewayReference: 'ch-lq-1', amount: '100.00' }),
  );
});

const eur = {
  currency: 'EUR',
  escrowHold: '50.00',
  disputed: '0.00',
  providerPayable: '0.00',
  refundPayable: '0.00',
  inPayout: { count: 0, amount: '0.00' },
  receivable: '0.00',
  revenue: '0.00',
  gatewayClearing: '50.00',
};

/** Clearing = hold + disputed + payable + refund payable + revenue - receivable, in cents. */
function clearingIdentityHolds(figures: Record<string, unknown>): boolean {
  const cents = (name: string) => BigInt((figures[name] as string).replace('.', ''));
  const assets =
    cents('escrowHold') +
    cents('disputed') +
    cents('providerPayable') +
    cents('refundPayable') +
    cents('revenue') -
    cents('receivable');
  return assets === cents('gatewayClearing');
}

test('now: hold, disputed, payables, in payout, receivable, revenue and clearing per currency', async () => {
  const { status, body } = await ops.get('/liquidity');
  expect(status).toBe(200);
  expect(body).toEqual({
    currencies: [
      eur,
      {
        currency: 'USD',
        // o-lq-2's 600.00 less 200.00 refunded; m-2's 400.00 is disputed, never in the hold.
        escrowHold: '400.00',
        disputed: '400.00',
        // 900.00 released to the provider and paid out.
        providerPayable: '0.00',
        refundPayable: '200.00',
        inPayout: { count: 0, amount: '0.00' },
        receivable: '90.00',
        // 100.00 fee less 10.00 reversed by the chargeback.
        revenue: '90.00',
        // 2000.00 received, 900.00 paid out, 100.00 charged back.
        gatewayClearing: '1000.00',
      },
    ],
  });
  for (const figures of body.currencies as Record<string, unknown>[]) {
    expect(clearingIdentityHolds(figures)).toBe(true);
  }
});

test('between steps: the figures of the earlier step', async () => {
  const funded = await ops.get(`/liquidity?asOf=${encodeURIComponent(moments.funded)}`);
  expect(funded.body).toEqual({
    asOf: moments.funded,
    currencies: [
      eur,
      {
        ...eur,
        currency: 'USD',
        escrowHold: '2000.00',
        gatewayClearing: '2000.00',
      },
    ],
  });
  const released = await ops.get(`/liquidity?asOf=${encodeURIComponent(moments.released)}`);
  const usd = (released.body.currencies as Record<string, unknown>[])[1]!;
  expect(usd).toEqual({
    currency: 'USD',
    escrowHold: '600.00',
    disputed: '400.00',
    providerPayable: '900.00',
    refundPayable: '0.00',
    inPayout: { count: 1, amount: '900.00' },
    receivable: '0.00',
    revenue: '100.00',
    gatewayClearing: '2000.00',
  });
  expect(clearingIdentityHolds(usd)).toBe(true);
  const before = await ops.get(`/liquidity?asOf=${encodeURIComponent(moments.beforeAll)}`);
  expect(before).toEqual({ status: 200, body: { asOf: moments.beforeAll, currencies: [] } });
});

test('the view of now (running balances) equals the ledger read at now', async () => {
  const now = await momentBetweenSteps(ctx);
  const current = await ops.get('/liquidity');
  const asOfNow = await ops.get(`/liquidity?asOf=${encodeURIComponent(now)}`);
  expect(asOfNow.body).toEqual({ asOf: now, ...current.body });
});

test('a bad asOf or parameter is refused with 400; without the token 401', async () => {
  expect(await ops.get('/liquidity?asOf=2026-06-01T10:00:00')).toEqual({
    status: 400,
    body: {
      parameter: 'asOf',
      error:
        'asOf "2026-06-01T10:00:00" is not an ISO-8601 date-time with an offset ' +
        '(YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or ±HH:MM): add Z for UTC or an offset ' +
        'such as +02:00 (a time without one names no moment)',
    },
  });
  expect((await ops.get('/liquidity?currency=USD')).body).toEqual({
    parameter: 'currency',
    error: 'unknown query parameter "currency": this route takes asOf',
  });
  const refused = await ops.get('/liquidity', {});
  expect(refused.status).toBe(401);
  expect(refused.body.error).toContain('Authorization: Bearer');
});
