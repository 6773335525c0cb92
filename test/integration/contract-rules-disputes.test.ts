/**
 * Disputes by the contract, through the one path (applyEvent under the order's
 * Redlock lock, real Postgres) and the inspection timer, on a clock the test
 * moves:
 *  - a payment arriving while its milestone is disputed is frozen with the
 *    rest (never in the escrow hold), and what the milestone does not need
 *    goes back as OVERPAYMENT;
 *  - a dispute on a partly funded milestone freezes what is held, and only
 *    exactly that can be split;
 *  - the inspection clock pauses when a dispute opens and resumes, when it is
 *    withdrawn, with the time it had left (read back from storage), and the
 *    timer releases at the resumed deadline, not before;
 *  - a dispute and order commands arriving before their order are kept and
 *    replayed in arrival order when it opens, each decided on the state the
 *    ones before it left (an expectedVersion included).
 */
import type { EscrowCommand } from '../../src/domain/escrow';
import { createLogger } from '../../src/logging/logger';
import { InspectionTimer } from '../../src/timers/inspection-timer';
import {
  cancelMilestone,
  dispute,
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  resolveDispute,
  useContractPipeline,
} from '../support/contract-pipeline';
import {
  accountTotal,
  balances,
  balancesOf,
  inboxVerdictOf,
  ledgerOf,
  milestoneRow,
  outboxMark,
  outboxOf,
  outcome,
  posted,
} from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const start = new Date('2026-07-01T12:00:00Z');
const pipeline = useContractPipeline(ctx, start);
const minute = 60_000;
const at = (offsetMs: number) => new Date(start.getTime() + offsetMs);
const hold = (orderId: string) => `ESCROW_HOLD:USD:${orderId}:m-1`;
const frozen = (orderId: string) => `DISPUTED_FUNDS:USD:${orderId}:m-1`;
const buyer = (orderId: string) => `BUYER_REFUND_PAYABLE:USD:buyer-${orderId}`;

async function deliverAll(commands: EscrowCommand[]) {
  for (const command of commands) {
    expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
  }
}

test('a payment arriving while its milestone is disputed is frozen with the rest; the excess goes back', async () => {
  const orderId = 'o-pay-disputed';
  pipeline.now = start;
  await deliverAll([
    openOrder(orderId, [milestone('m-1', '1000.00')]),
    payment(orderId, 'm-1', '600.00', 'ch-1'),
    dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' }),
  ]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('DISPUTED', 3, { amount: '100000', funded: '60000', disputed: '60000' }),
  );

  let mark = await outboxMark(ctx.db, orderId);
  const topUp = payment(orderId, 'm-1', '400.00', 'ch-2', { kind: 'INSTALLMENT' });
  expect((await pipeline.deliver(topUp)).verdict).toBe('APPLIED');
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('DISPUTED', 4, { amount: '100000', funded: '100000', disputed: '100000' }),
  );
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    { type: 'MILESTONE_FUNDED', milestoneId: 'm-1', milestoneVersion: 4, state: 'DISPUTED' },
  ]);
  expect((await ledgerOf(ctx.db, orderId)).map(posted).at(-1)).toEqual({
    kind: 'FUNDING',
    milestoneId: 'm-1',
    cause: topUp.eventId,
    entries: { 'GATEWAY_CLEARING:USD': '-40000', [frozen(orderId)]: '40000' },
  });

  // Fully funded now: a further payment is not needed and goes back whole.
  mark = await outboxMark(ctx.db, orderId);
  const extra = payment(orderId, 'm-1', '100.00', 'ch-3');
  expect((await pipeline.deliver(extra)).verdict).toBe('APPLIED');
  expect((await balancesOf(ctx.db, orderId, 'm-1')).version).toBe(4);
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    {
      type: 'REFUND_REQUESTED',
      milestoneId: null,
      milestoneVersion: null,
      currency: 'USD',
      amount: '100.00',
      reason: 'OVERPAYMENT',
    },
  ]);
  expect((await ledgerOf(ctx.db, orderId)).map(posted).at(-1)).toEqual({
    kind: 'OVERPAYMENT_REFUND',
    milestoneId: 'm-1',
    cause: extra.eventId,
    entries: { 'GATEWAY_CLEARING:USD': '-10000', [buyer(orderId)]: '10000' },
  });
  expect(await ctx.db('payments').where({ gateway_reference: 'ch-3' }).first()).toMatchObject({
    status: 'REFUNDED',
    applied_minor: '0',
    refunded_minor: '10000',
  });
  // Disputed funds never sit in the hold.
  expect(await accountTotal(ctx.db, hold(orderId))).toBe('0');
  expect(await accountTotal(ctx.db, frozen(orderId))).toBe('100000');

  // The resolution splits everything frozen, the late payment included.
  mark = await outboxMark(ctx.db, orderId);
  await deliverAll([resolveDispute(orderId, 'm-1', '700.00', '300.00', { disputeId: 'd-1' })]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('RELEASED', 5, {
      amount: '100000',
      funded: '100000',
      released: '70000',
      fees: '7000',
      refunded: '30000',
    }),
  );
  const rows = await outboxOf(ctx.db, orderId, mark);
  expect(rows.map(outcome).slice(1)).toEqual([
    {
      type: 'PAYOUT_REQUESTED',
      milestoneId: 'm-1',
      milestoneVersion: 5,
      currency: 'USD',
      gross: '700.00',
      fee: '70.00',
      net: '630.00',
    },
    {
      type: 'REFUND_REQUESTED',
      milestoneId: 'm-1',
      milestoneVersion: 5,
      currency: 'USD',
      amount: '300.00',
      reason: 'DISPUTE',
    },
  ]);
  expect(rows[2]!.payload.gatewayReferences).toEqual(['ch-1', 'ch-2']);
});

test('a dispute on a partly funded milestone freezes what is held, and only that can be split', async () => {
  const orderId = 'o-dispute-partial';
  pipeline.now = start;
  await deliverAll([
    openOrder(orderId, [milestone('m-1', '1000.00')]),
    payment(orderId, 'm-1', '300.00', 'ch-partial'),
  ]);
  const opening = dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' });
  await deliverAll([opening]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('DISPUTED', 3, { amount: '100000', funded: '30000', disputed: '30000' }),
  );
  expect((await ledgerOf(ctx.db, orderId)).map(posted).at(-1)).toEqual({
    kind: 'DISPUTE_FREEZE',
    milestoneId: 'm-1',
    cause: opening.eventId,
    entries: { [hold(orderId)]: '-30000', [frozen(orderId)]: '30000' },
  });

  // A split of the milestone's whole amount is not a split of what is disputed.
  const ledgerBefore = await ledgerOf(ctx.db, orderId);
  let mark = await outboxMark(ctx.db, orderId);
  const wrongSplit = resolveDispute(orderId, 'm-1', '600.00', '400.00', { disputeId: 'd-1' });
  expect(await pipeline.deliver(wrongSplit)).toMatchObject({
    verdict: 'REJECTED',
    reason: 'INVALID_AMOUNT',
  });
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    { type: 'EVENT_REJECTED', milestoneId: 'm-1', milestoneVersion: 3, reason: 'INVALID_AMOUNT' },
  ]);
  expect(await ledgerOf(ctx.db, orderId)).toEqual(ledgerBefore);
  expect((await balancesOf(ctx.db, orderId, 'm-1')).version).toBe(3);

  // Withdrawn, it is partly funded again; disputed again and split, exactly the 300.00.
  await deliverAll([dispute('DISPUTE_WITHDRAWN', orderId, 'm-1', { disputeId: 'd-1' })]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('PARTIALLY_FUNDED', 4, { amount: '100000', funded: '30000', held: '30000' }),
  );
  mark = await outboxMark(ctx.db, orderId);
  await deliverAll([
    dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-2' }),
    resolveDispute(orderId, 'm-1', '100.00', '200.00', { disputeId: 'd-2' }),
  ]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('RELEASED', 6, {
      amount: '100000',
      funded: '30000',
      released: '10000',
      fees: '1000',
      refunded: '20000',
    }),
  );
  expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
    { type: 'DISPUTE_OPENED', milestoneId: 'm-1', milestoneVersion: 5, state: 'DISPUTED' },
    { type: 'DISPUTE_RESOLVED', milestoneId: 'm-1', milestoneVersion: 6, state: 'RELEASED' },
    {
      type: 'PAYOUT_REQUESTED',
      milestoneId: 'm-1',
      milestoneVersion: 6,
      currency: 'USD',
      gross: '100.00',
      fee: '10.00',
      net: '90.00',
    },
    {
      type: 'REFUND_REQUESTED',
      milestoneId: 'm-1',
      milestoneVersion: 6,
      currency: 'USD',
      amount: '200.00',
      reason: 'DISPUTE',
    },
  ]);
});

describe('the inspection clock', () => {
  const timer = () =>
    new InspectionTimer(ctx.db, pipeline.settings(), createLogger({ LOG_LEVEL: 'silent' }));
  const releasesOf = async (orderId: string) =>
    (await ledgerOf(ctx.db, orderId)).filter((tx) => tx.kind === 'RELEASE');

  test('pauses while disputed and resumes with the time it had left, from storage', async () => {
    const orderId = 'o-clock';
    pipeline.now = start;
    await deliverAll([
      openOrder(orderId, [milestone('m-1', '100.00', 3600)]),
      payment(orderId, 'm-1', '100.00', 'ch-clock'),
      reached(orderId, 'm-1'),
    ]);
    expect((await milestoneRow(ctx.db, orderId, 'm-1')).inspection_deadline).toEqual(
      at(60 * minute),
    );

    pipeline.now = at(10 * minute);
    await deliverAll([dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' })]);
    expect(await milestoneRow(ctx.db, orderId, 'm-1')).toMatchObject({
      state: 'DISPUTED',
      inspection_deadline: null,
      inspection_remaining_ms: String(50 * minute),
    });

    // Long past the original deadline: nothing is due while the dispute is open.
    pipeline.now = at(5 * 60 * minute);
    await timer().fireDue();
    expect(await releasesOf(orderId)).toEqual([]);

    await deliverAll([dispute('DISPUTE_WITHDRAWN', orderId, 'm-1', { disputeId: 'd-1' })]);
    const resumed = at(5 * 60 * minute + 50 * minute);
    expect(await milestoneRow(ctx.db, orderId, 'm-1')).toMatchObject({
      state: 'AWAITING_RELEASE',
      version: 5,
      inspection_deadline: resumed,
      inspection_remaining_ms: null,
    });

    pipeline.now = new Date(resumed.getTime() - 1000);
    await timer().fireDue();
    expect(await releasesOf(orderId)).toEqual([]);

    pipeline.now = resumed;
    const mark = await outboxMark(ctx.db, orderId);
    await timer().fireDue();
    const cause = `inspection:${orderId}:m-1:${resumed.toISOString()}`;
    expect((await releasesOf(orderId)).map(posted)).toEqual([
      {
        kind: 'RELEASE',
        milestoneId: 'm-1',
        cause,
        entries: {
          [hold(orderId)]: '-10000',
          [`PROVIDER_PAYABLE:USD:provider-${orderId}`]: '9000',
          'PLATFORM_REVENUE:USD': '1000',
        },
      },
    ]);
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('RELEASED', 6, {
        amount: '10000',
        funded: '10000',
        released: '10000',
        fees: '1000',
      }),
    );
    expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
      { type: 'MILESTONE_RELEASED', milestoneId: 'm-1', milestoneVersion: 6, state: 'RELEASED' },
      {
        type: 'PAYOUT_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 6,
        currency: 'USD',
        gross: '100.00',
        fee: '10.00',
        net: '90.00',
      },
    ]);
  });

  test('reached during a dispute starts with its full length when the dispute is withdrawn', async () => {
    const orderId = 'o-clock-reached-frozen';
    pipeline.now = start;
    await deliverAll([
      openOrder(orderId, [milestone('m-1', '100.00', 3600)]),
      payment(orderId, 'm-1', '100.00', 'ch-clock-frozen'),
      dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' }),
    ]);
    pipeline.now = at(20 * minute);
    await deliverAll([reached(orderId, 'm-1')]);
    expect(await milestoneRow(ctx.db, orderId, 'm-1')).toMatchObject({
      state: 'DISPUTED',
      reached: true,
      inspection_deadline: null,
      inspection_remaining_ms: String(60 * minute),
    });
    pipeline.now = at(90 * minute);
    await deliverAll([dispute('DISPUTE_WITHDRAWN', orderId, 'm-1', { disputeId: 'd-1' })]);
    expect((await milestoneRow(ctx.db, orderId, 'm-1')).inspection_deadline).toEqual(
      at(150 * minute),
    );
  });
});

test('a dispute and order commands kept before their order are replayed in arrival order when it opens', async () => {
  const orderId = 'o-kept-dispute';
  pipeline.now = start;
  const early: EscrowCommand[] = [
    payment(orderId, 'm-1', '1000.00', 'ch-kept'),
    refund(orderId, 'm-1', '200.00', { reason: 'PARTIAL_COMPLETION' }),
    // Decided at replay on the version the two before it left (payment → 2, refund → 3).
    dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1', expectedVersion: 3 }),
    reached(orderId, 'm-1'),
    cancelMilestone(orderId, 'm-2'),
    // Stale by the time it is replayed.
    cancelMilestone(orderId, 'm-1', { eventId: 'cancel-stale', expectedVersion: 1 }),
  ];
  for (const command of early) {
    expect((await pipeline.deliver(command)).verdict).toBe('KEPT');
  }
  expect((await pipeline.deliver(early[2]!)).verdict).toBe('DUPLICATE');
  expect(await ctx.db('orders').where({ order_id: orderId }).first()).toBeUndefined();
  expect(await ledgerOf(ctx.db, orderId)).toEqual([]);
  expect(
    await ctx
      .db('kept_events')
      .where({ order_id: orderId })
      .whereNull('replayed_at')
      .count({ n: '*' }),
  ).toEqual([{ n: '6' }]);
  expect(await ctx.db('payments').where({ gateway_reference: 'ch-kept' }).first()).toMatchObject({
    status: 'PENDING_ORDER',
  });

  const result = await pipeline.deliver(
    openOrder(orderId, [milestone('m-1', '1000.00'), milestone('m-2', '50.00')]),
  );
  expect(result).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 3 });

  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('DISPUTED', 5, {
      amount: '80000',
      funded: '100000',
      disputed: '80000',
      refunded: '20000',
    }),
  );
  expect(await milestoneRow(ctx.db, orderId, 'm-1')).toMatchObject({
    reached: true,
    dispute_id: 'd-1',
  });
  expect(await balancesOf(ctx.db, orderId, 'm-2')).toEqual(
    balances('CANCELLED', 2, { amount: '5000' }),
  );
  const verdicts = await Promise.all(
    early.map((command) => inboxVerdictOf(ctx.db, command.eventId)),
  );
  expect(verdicts).toEqual([
    { outcome: 'APPLIED', reason: null },
    { outcome: 'APPLIED', reason: null },
    { outcome: 'APPLIED', reason: null },
    { outcome: 'APPLIED', reason: null },
    { outcome: 'APPLIED', reason: null },
    { outcome: 'REJECTED', reason: 'CONFLICT' },
  ]);
  expect(await ctx.db('kept_events').where({ order_id: orderId }).whereNull('replayed_at')).toEqual(
    [],
  );
  const rows = await outboxOf(ctx.db, orderId);
  expect(rows.map((row) => [row.payload.causeEventId, outcome(row)])).toEqual([
    [
      `open-${orderId}`,
      { type: 'ORDER_OPENED', milestoneId: null, milestoneVersion: null, state: 'OPEN' },
    ],
    [
      early[0]!.eventId,
      { type: 'MILESTONE_FUNDED', milestoneId: 'm-1', milestoneVersion: 2, state: 'FUNDED' },
    ],
    [
      early[1]!.eventId,
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        currency: 'USD',
        amount: '200.00',
        reason: 'PARTIAL_COMPLETION',
      },
    ],
    [
      early[1]!.eventId,
      { type: 'FUNDS_REFUNDED', milestoneId: 'm-1', milestoneVersion: 3, state: 'FUNDED' },
    ],
    [
      early[2]!.eventId,
      { type: 'DISPUTE_OPENED', milestoneId: 'm-1', milestoneVersion: 4, state: 'DISPUTED' },
    ],
    [
      early[3]!.eventId,
      { type: 'MILESTONE_REACHED', milestoneId: 'm-1', milestoneVersion: 5, state: 'DISPUTED' },
    ],
    [
      early[4]!.eventId,
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-2', milestoneVersion: 2, state: 'CANCELLED' },
    ],
    [
      'cancel-stale',
      { type: 'EVENT_REJECTED', milestoneId: 'm-1', milestoneVersion: 5, reason: 'CONFLICT' },
    ],
  ]);
  expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual([
    {
      kind: 'FUNDING',
      milestoneId: 'm-1',
      cause: early[0]!.eventId,
      entries: { 'GATEWAY_CLEARING:USD': '-100000', [hold(orderId)]: '100000' },
    },
    {
      kind: 'REFUND',
      milestoneId: 'm-1',
      cause: early[1]!.eventId,
      entries: { [hold(orderId)]: '-20000', [buyer(orderId)]: '20000' },
    },
    {
      kind: 'DISPUTE_FREEZE',
      milestoneId: 'm-1',
      cause: early[2]!.eventId,
      entries: { [hold(orderId)]: '-80000', [frozen(orderId)]: '80000' },
    },
  ]);

  // Withdrawn: reached, funded for what it is worth now, no inspection period: released at once.
  const mark = await outboxMark(ctx.db, orderId);
  await deliverAll([dispute('DISPUTE_WITHDRAWN', orderId, 'm-1', { disputeId: 'd-1' })]);
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
    balances('RELEASED', 6, {
      amount: '80000',
      funded: '100000',
      released: '80000',
      fees: '8000',
      refunded: '20000',
    }),
  );
  expect(
    (await outboxOf(ctx.db, orderId, mark))
      .map(outcome)
      .filter((row) => row.type === 'PAYOUT_REQUESTED'),
  ).toEqual([
    {
      type: 'PAYOUT_REQUESTED',
      milestoneId: 'm-1',
      milestoneVersion: 6,
      currency: 'USD',
      gross: '800.00',
      fee: '80.00',
      net: '720.00',
    },
  ]);
});
