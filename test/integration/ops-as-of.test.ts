/**
 * GET /orders/{orderId}?asOf=… over the real HTTP server and Postgres: an
 * order built through the one path (open, fund m-1, release it, part-fund
 * m-2), read back at moments between the steps; before the order existed
 * (404 naming when it was recorded); at now, equal to the milestone rows; and
 * every malformed asOf refused with 400 naming the parameter, the rule and
 * the fix. The view of now keeps its shape.
 */
import {
  milestone,
  openOrder,
  payment,
  reached,
  useContractPipeline,
} from '../support/contract-pipeline';
import { deliverNow, momentBetweenSteps, useOpsViewsServer } from '../support/ops-views-server';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date());
const ops = useOpsViewsServer(ctx);
const orderId = 'o-as-of';
const moments: Record<'beforeOrder' | 'opened' | 'funded' | 'released', string> = {
  beforeOrder: '',
  opened: '',
  funded: '',
  released: '',
};

const zero = { funded: '0.00', held: '0.00', disputed: '0.00', released: '0.00', fees: '0.00' };
const first = { milestoneId: 'm-1', sequence: 1, originalAmount: '1000.00' };
const second = { milestoneId: 'm-2', sequence: 2, originalAmount: '500.00' };

beforeAll(async () => {
  moments.beforeOrder = await momentBetweenSteps(ctx);
  const open = openOrder(orderId, [milestone('m-1', '1000.00'), milestone('m-2', '500.00')], {
    providerId: 'p-as-of',
  });
  expect(await deliverNow(pipeline, open)).toMatchObject({ verdict: 'APPLIED' });
  moments.opened = await momentBetweenSteps(ctx);
  await deliverNow(pipeline, payment(orderId, 'm-1', '1000.00', 'ch-as-of-1'));
  moments.funded = await momentBetweenSteps(ctx);
  expect(await deliverNow(pipeline, reached(orderId, 'm-1'))).toMatchObject({
    verdict: 'APPLIED',
  });
  moments.released = await momentBetweenSteps(ctx);
  await deliverNow(pipeline, payment(orderId, 'm-2', '200.00', 'ch-as-of-2'));
});

const asOf = (moment: string) => `/orders/${orderId}?asOf=${encodeURIComponent(moment)}`;

test('between two steps, the balances of the earlier one', async () => {
  const opened = await ops.get(asOf(moments.opened));
  expect(opened).toEqual({
    status: 200,
    body: {
      orderId,
      buyerId: `buyer-${orderId}`,
      providerId: 'p-as-of',
      currency: 'USD',
      asOf: moments.opened,
      milestones: [
        { ...first, ...zero, refunded: '0.00' },
        { ...second, ...zero, refunded: '0.00' },
      ],
    },
  });

  const funded = await ops.get(asOf(moments.funded));
  expect(funded.body.milestones).toEqual([
    { ...first, ...zero, funded: '1000.00', held: '1000.00', refunded: '0.00' },
    { ...second, ...zero, refunded: '0.00' },
  ]);

  // Released at 10 %: gross 1000.00 of which 100.00 fee; m-2 not funded yet.
  const released = await ops.get(asOf(moments.released));
  expect(released.body.milestones).toEqual([
    { ...first, ...zero, funded: '1000.00', released: '1000.00', fees: '100.00', refunded: '0.00' },
    { ...second, ...zero, refunded: '0.00' },
  ]);
});

test('the same moment written with an offset, its "+" encoded or not, reads the same', async () => {
  // moments.funded in UTC, written as the same instant two hours ahead at +02:00.
  const utc = moments.funded;
  const shifted = new Date(Date.parse(utc) + 2 * 3600_000).toISOString().slice(0, 19);
  const local = `${shifted}.${utc.slice(20, 26)}`;
  const encoded = await ops.get(`/orders/${orderId}?asOf=${local}%2B02:00`);
  const unencoded = await ops.get(`/orders/${orderId}?asOf=${local}+02:00`);
  const utcAnswer = await ops.get(asOf(utc));
  expect(encoded).toEqual(utcAnswer);
  expect(unencoded).toEqual(utcAnswer);
  expect(encoded.body.asOf).toBe(utc);
});

test('before the order was recorded: 404 naming when it was', async () => {
  const before = await ops.get(asOf(moments.beforeOrder));
  expect(before.status).toBe(404);
  expect(before.body.error).toMatch(
    new RegExp(
      `^order "${orderId}" did not exist at ${moments.beforeOrder.replace(/\./g, '\\.')}: ` +
        'it was recorded at \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z; ask for a moment at or ' +
        'after that, or leave asOf out for now$',
    ),
  );
  // A leap day is a real date: accepted, and long before the order.
  const leapDay = await ops.get(asOf('2024-02-29T12:00:00Z'));
  expect(leapDay.status).toBe(404);
  expect(leapDay.body.error).toContain('did not exist at 2024-02-29T12:00:00.000000Z');
  expect(await ops.get(`/orders/no-such-order?asOf=2024-02-29T12:00:00Z`)).toEqual({
    status: 404,
    body: { error: 'no order "no-such-order"' },
  });
});

test('at now, the ledger says what the milestone rows say; the view of now keeps its shape', async () => {
  const current = await ops.get(`/orders/${orderId}`);
  expect(current.status).toBe(200);
  expect(current.body).not.toHaveProperty('asOf');
  const rows = current.body.milestones as Record<string, unknown>[];
  expect(rows.map((row) => [row.milestoneId, row.state, row.funded, row.held])).toEqual([
    ['m-1', 'RELEASED', '1000.00', '0.00'],
    ['m-2', 'PARTIALLY_FUNDED', '200.00', '200.00'],
  ]);
  const now = await ops.get(asOf(await momentBetweenSteps(ctx)));
  const fields = ['funded', 'held', 'disputed', 'released', 'fees', 'refunded'] as const;
  const pick = (row: Record<string, unknown>) => fields.map((field) => row[field]);
  expect((now.body.milestones as Record<string, unknown>[]).map(pick)).toEqual(rows.map(pick));
  expect(now.body.milestones).toEqual([
    { ...first, ...zero, funded: '1000.00', released: '1000.00', fees: '100.00', refunded: '0.00' },
    { ...second, ...zero, funded: '200.00', held: '200.00', refunded: '0.00' },
  ]);
});

test.each([
  [
    'yesterday',
    'is not an ISO-8601 date-time with an offset',
    'write e.g. asOf=2026-06-01T09:30:00Z',
  ],
  ['', 'is not an ISO-8601 date-time', 'write e.g.'],
  [
    '2026-06-01',
    'is not an ISO-8601 date-time',
    'add a time and an offset, e.g. 2026-06-01T00:00:00Z',
  ],
  [
    '2026-06-01T10:00:00',
    'is not an ISO-8601 date-time',
    'add Z for UTC or an offset such as +02:00',
  ],
  ['2026-02-30T00:00:00Z', 'is not a real moment: 2026-02 has no day 30', 'write e.g.'],
  ['2025-02-29T00:00:00Z', 'is not a real moment: 2025-02 has no day 29', 'write e.g.'],
  ['2026-13-01T00:00:00Z', 'is not a real moment: there is no month 13', 'write e.g.'],
  ['2026-06-01T24:00:00Z', 'is not a time of day', 'write e.g.'],
  ['2026-06-01T10:00:00+25:00', 'is not an offset', 'write e.g.'],
  [
    '2999-01-01T00:00:00Z',
    "is later than the server's clock",
    'leave asOf out for the balances of now',
  ],
])('asOf=%j is refused with 400 naming the rule and the fix', async (value, rule, fix) => {
  const refused = await ops.get(`/orders/${orderId}?asOf=${encodeURIComponent(value)}`);
  expect(refused.status).toBe(400);
  expect(refused.body.parameter).toBe('asOf');
  expect(refused.body.error).toContain(`asOf ${JSON.stringify(value)} `);
  expect(refused.body.error).toContain(rule);
  expect(refused.body.error).toContain(fix);
});

test('a misspelt or repeated parameter is refused, never ignored', async () => {
  expect(await ops.get(`/orders/${orderId}?as_of=2026-06-01T00:00:00Z`)).toEqual({
    status: 400,
    body: {
      parameter: 'as_of',
      error: 'unknown query parameter "as_of": this route takes asOf (spelt asOf)',
    },
  });
  const twice = `asOf=${encodeURIComponent(moments.opened)}&asOf=${encodeURIComponent(moments.funded)}`;
  expect(await ops.get(`/orders/${orderId}?${twice}`)).toEqual({
    status: 400,
    body: { parameter: 'asOf', error: 'asOf is given more than once: give it once' },
  });
  expect(await ops.get(`/orders/${orderId}/ledger?asOf=2026-06-01T00:00:00Z`)).toEqual({
    status: 400,
    body: {
      parameter: 'asOf',
      error: 'unknown query parameter "asOf": this route takes no parameters',
    },
  });
});

test('without the token: 401, whatever the asOf', async () => {
  const refused = await ops.get(asOf(moments.funded), {});
  expect(refused.status).toBe(401);
  expect(refused.body.error).toContain('Authorization: Bearer');
  expect((await ops.get(`/orders/${orderId}?asOf=nonsense`, {})).status).toBe(401);
});
