/**
 * SERVICE_FEE payments (CONTRACT.md, payment-confirmed: platform revenue at
 * once), through the one path (applyEvent under the order's Redlock lock,
 * real Postgres):
 *  - in another currency than the order's: rejected CURRENCY_MISMATCH and
 *    refunded whole in its own currency, no revenue booked;
 *  - naming a milestone: still revenue at once, the milestone neither funded
 *    nor changed (it still needs its whole amount);
 *  - redelivered by a retrying adapter under a new eventId: no second effect;
 *    the same reference with another amount: IDEMPOTENCY_CONFLICT, nothing moves;
 *  - arriving before its order: kept, booked when the order opens.
 */
import { milestone, openOrder, payment, useContractPipeline } from '../support/contract-pipeline';
import {
  balances,
  balancesOf,
  ledgerOf,
  outboxMark,
  outboxOf,
  outcome,
  posted,
} from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));
const open = (orderId: string) => openOrder(orderId, [milestone('m-1', '1000.00')]);
const paymentRow = (reference: string) =>
  ctx
    .db('payments')
    .where({ gateway_reference: reference })
    .select('kind', 'currency', 'amount_minor', 'status', 'applied_minor', 'refunded_minor');

test('in the wrong currency: CURRENCY_MISMATCH, refunded whole in its currency, no revenue', async () => {
  const orderId = 'o-fee-eur';
  await pipeline.deliver(open(orderId));
  const mark = await outboxMark(ctx.db, orderId);
  const fee = payment(orderId, null, '25.00', 'fee-eur', { kind: 'SERVICE_FEE', currency: 'EUR' });

  const result = await pipeline.deliver(fee);
  expect(result).toMatchObject({
    verdict: 'REJECTED',
    reason: 'CURRENCY_MISMATCH',
    ledgerTransactions: 1,
  });
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual([
    {
      kind: 'CURRENCY_MISMATCH_REFUND',
      milestoneId: null,
      cause: fee.eventId,
      entries: {
        'GATEWAY_CLEARING:EUR': '-2500',
        [`BUYER_REFUND_PAYABLE:EUR:buyer-${orderId}`]: '2500',
      },
    },
  ]);
  const rows = await outboxOf(ctx.db, orderId, mark);
  expect(rows.map(outcome)).toEqual([
    {
      type: 'REFUND_REQUESTED',
      milestoneId: null,
      milestoneVersion: null,
      currency: 'EUR',
      amount: '25.00',
      reason: 'CURRENCY_MISMATCH',
    },
    {
      type: 'EVENT_REJECTED',
      milestoneId: null,
      milestoneVersion: null,
      reason: 'CURRENCY_MISMATCH',
    },
  ]);
  expect(rows[0]!.payload.gatewayReferences).toEqual(['fee-eur']);
  expect(await paymentRow('fee-eur')).toEqual([
    {
      kind: 'SERVICE_FEE',
      currency: 'EUR',
      amount_minor: '2500',
      status: 'REFUNDED',
      applied_minor: '0',
      refunded_minor: '2500',
    },
  ]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('PENDING_FUNDING', 1, { amount: '100000' }),
  );

  // Redelivered: refunded once.
  expect((await pipeline.deliver({ ...fee, eventId: 'fee-eur-retry' })).verdict).toBe('DUPLICATE');
  expect(await ledgerOf(ctx.db, orderId)).toHaveLength(1);
  expect(await outboxOf(ctx.db, orderId, mark)).toHaveLength(2);
});

test('with a milestone id: revenue at once, the milestone neither funded nor changed', async () => {
  const orderId = 'o-fee-milestone';
  await pipeline.deliver(open(orderId));
  const mark = await outboxMark(ctx.db, orderId);
  const fee = payment(orderId, 'm-1', '25.00', 'fee-m1', { kind: 'SERVICE_FEE' });

  expect(await pipeline.deliver(fee)).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 1 });
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual([
    {
      kind: 'SERVICE_FEE',
      milestoneId: 'm-1',
      cause: fee.eventId,
      entries: { 'GATEWAY_CLEARING:USD': '-2500', 'PLATFORM_REVENUE:USD': '2500' },
    },
  ]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('PENDING_FUNDING', 1, { amount: '100000' }),
  );
  // Platform revenue is no milestone's: the contract names no outcome for it.
  expect(await outboxOf(ctx.db, orderId, mark)).toEqual([]);
  expect(await paymentRow('fee-m1')).toEqual([
    {
      kind: 'SERVICE_FEE',
      currency: 'USD',
      amount_minor: '2500',
      status: 'APPLIED',
      applied_minor: '2500',
      refunded_minor: '0',
    },
  ]);

  // The milestone still needs its whole amount: 1000.00 funds it exactly, nothing comes back.
  await pipeline.deliver(payment(orderId, 'm-1', '1000.00', 'ch-m1'));
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('FUNDED', 2, { amount: '100000', funded: '100000', held: '100000' }),
  );
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    { type: 'MILESTONE_FUNDED', milestoneId: 'm-1', milestoneVersion: 2, state: 'FUNDED' },
  ]);
});

test('redelivered under new eventIds: booked once; the same reference with another amount is IDEMPOTENCY_CONFLICT', async () => {
  const orderId = 'o-fee-retry';
  await pipeline.deliver(open(orderId));
  const fee = payment(orderId, null, '25.00', 'fee-retry', { kind: 'SERVICE_FEE' });
  const verdicts = [];
  for (let delivery = 1; delivery <= 5; delivery++) {
    verdicts.push((await pipeline.deliver({ ...fee, eventId: `fee-retry-${delivery}` })).verdict);
  }
  expect(verdicts).toEqual(['APPLIED', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE']);
  const booked = [
    {
      kind: 'SERVICE_FEE',
      milestoneId: null,
      cause: 'fee-retry-1',
      entries: { 'GATEWAY_CLEARING:USD': '-2500', 'PLATFORM_REVENUE:USD': '2500' },
    },
  ];
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual(booked);

  const mark = await outboxMark(ctx.db, orderId);
  const changed = { ...fee, eventId: 'fee-retry-changed', amount: '30.00' };
  expect((await pipeline.deliver(changed)).verdict).toBe('IDEMPOTENCY_CONFLICT');
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual(booked);
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    {
      type: 'EVENT_REJECTED',
      milestoneId: null,
      milestoneVersion: null,
      reason: 'IDEMPOTENCY_CONFLICT',
    },
  ]);
  expect(await paymentRow('fee-retry')).toEqual([
    {
      kind: 'SERVICE_FEE',
      currency: 'USD',
      amount_minor: '2500',
      status: 'APPLIED',
      applied_minor: '2500',
      refunded_minor: '0',
    },
  ]);
});

test('before its order: kept, and booked as revenue when the order opens', async () => {
  const orderId = 'o-fee-early';
  const fee = payment(orderId, null, '25.00', 'fee-early', { kind: 'SERVICE_FEE' });
  expect((await pipeline.deliver(fee)).verdict).toBe('KEPT');
  expect(await ledgerOf(ctx.db, orderId)).toEqual([]);
  expect(await pipeline.deliver(open(orderId))).toMatchObject({
    verdict: 'APPLIED',
    ledgerTransactions: 1,
  });
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual([
    {
      kind: 'SERVICE_FEE',
      milestoneId: null,
      cause: fee.eventId,
      entries: { 'GATEWAY_CLEARING:USD': '-2500', 'PLATFORM_REVENUE:USD': '2500' },
    },
  ]);
  expect(await paymentRow('fee-early')).toMatchObject([
    { status: 'APPLIED', applied_minor: '2500' },
  ]);
});
