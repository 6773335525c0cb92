/**
 * Refunds and cancellations by the contract, through the one path (applyEvent
 * under the order's Redlock lock, real Postgres):
 *  - OVER_REFUND: a refund of more than is held changes nothing; exactly what
 *    is held goes back;
 *  - INVALID_STATE: commands a milestone's state does not allow (reached
 *    twice, a second dispute, no such dispute, a refund or cancellation while
 *    disputed, anything on a released milestone, an order opened twice)
 *    change nothing but one EVENT_REJECTED;
 *  - ORDER_CANCELLED over milestones in PENDING_FUNDING, PARTIALLY_FUNDED,
 *    AWAITING_RELEASE with its inspection timer running, and DISPUTED beside
 *    them (left with its dispute, cancelled when it is withdrawn), a released
 *    one untouched; cancelled twice; and arriving before its order.
 */
import { InspectionTimer } from '../../src/timers/inspection-timer';
import { createLogger } from '../../src/logging/logger';
import type { EscrowCommand } from '../../src/domain/escrow';
import {
  cancelMilestone,
  cancelOrder,
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
  balances,
  balancesOf,
  detailsOf,
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
const start = new Date('2026-06-01T09:00:00Z');
const pipeline = useContractPipeline(ctx, start);
const hold = (orderId: string, milestoneId = 'm-1') => `ESCROW_HOLD:USD:${orderId}:${milestoneId}`;
const buyer = (orderId: string) => `BUYER_REFUND_PAYABLE:USD:buyer-${orderId}`;

async function deliverAll(commands: EscrowCommand[]) {
  for (const command of commands) {
    expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
  }
}

/** Delivers a command that must be refused for `reason` and leave the order as it was. */
async function expectRefused(
  command: EscrowCommand,
  reason: string,
  about: { milestoneId: string | null; milestoneVersion: number | null },
) {
  const orderId = command.orderId;
  const milestoneIds = (await ctx
    .db('milestones')
    .where({ order_id: orderId })
    .pluck('milestone_id')) as string[];
  const before = await Promise.all(milestoneIds.map((id) => balancesOf(ctx.db, orderId, id)));
  const ledgerBefore = await ledgerOf(ctx.db, orderId);
  const orderBefore: unknown = await ctx.db('orders').where({ order_id: orderId }).first();
  const mark = await outboxMark(ctx.db, orderId);

  const result = await pipeline.deliver(command);
  expect(result).toMatchObject({ verdict: 'REJECTED', reason, ledgerTransactions: 0 });
  expect(await Promise.all(milestoneIds.map((id) => balancesOf(ctx.db, orderId, id)))).toEqual(
    before,
  );
  expect(await ledgerOf(ctx.db, orderId)).toEqual(ledgerBefore);
  expect(await ctx.db('orders').where({ order_id: orderId }).first()).toEqual(orderBefore);
  const rows = await outboxOf(ctx.db, orderId, mark);
  expect(rows.map(outcome)).toEqual([{ type: 'EVENT_REJECTED', ...about, reason }]);
  return rows[0]!;
}

describe('OVER_REFUND', () => {
  test('a refund one cent over what is held changes nothing; exactly what is held goes back', async () => {
    const orderId = 'o-over-refund';
    await deliverAll([
      openOrder(orderId, [milestone('m-1', '1000.00')]),
      payment(orderId, 'm-1', '400.00', 'ch-over'),
    ]);
    const rejection = await expectRefused(refund(orderId, 'm-1', '400.01'), 'OVER_REFUND', {
      milestoneId: 'm-1',
      milestoneVersion: 2,
    });
    expect(rejection.payload.message).toContain('refund of 400.01 exceeds the 400.00 held');

    const mark = await outboxMark(ctx.db, orderId);
    const result = await pipeline.deliver(
      refund(orderId, 'm-1', '400.00', { reason: 'PARTIAL_COMPLETION' }),
    );
    expect(result.verdict).toBe('APPLIED');
    // What the milestone is worth drops by the refund; nothing is held any more.
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('PENDING_FUNDING', 3, { amount: '60000', funded: '40000', refunded: '40000' }),
    );
    const rows = await outboxOf(ctx.db, orderId, mark);
    expect(rows.map(outcome)).toEqual([
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        currency: 'USD',
        amount: '400.00',
        reason: 'PARTIAL_COMPLETION',
      },
      { type: 'FUNDS_REFUNDED', milestoneId: 'm-1', milestoneVersion: 3, state: 'PENDING_FUNDING' },
    ]);
    expect(rows[0]!.payload.gatewayReferences).toEqual(['ch-over']);
    expect((await ledgerOf(ctx.db, orderId)).map(posted).at(-1)).toEqual({
      kind: 'REFUND',
      milestoneId: 'm-1',
      cause: `refund-${orderId}-m-1-400.00`,
      entries: { [hold(orderId)]: '-40000', [buyer(orderId)]: '40000' },
    });
    // Nothing is held now: the smallest refund is over.
    await expectRefused(refund(orderId, 'm-1', '0.01'), 'OVER_REFUND', {
      milestoneId: 'm-1',
      milestoneVersion: 3,
    });
  });
});

describe('INVALID_STATE', () => {
  const open = (orderId: string, inspectionPeriodSeconds = 0) =>
    openOrder(orderId, [milestone('m-1', '100.00', inspectionPeriodSeconds)]);
  const fund = (orderId: string) => payment(orderId, 'm-1', '100.00', `ch-${orderId}`);
  const cases: [
    string,
    (orderId: string) => EscrowCommand[],
    number,
    (o: string) => EscrowCommand,
  ][] = [
    [
      'MILESTONE_REACHED on a milestone already reached',
      (o) => [open(o, 3600), fund(o), reached(o, 'm-1')],
      3,
      (o) => reached(o, 'm-1', { eventId: `reached-again-${o}` }),
    ],
    [
      'DISPUTE_OPENED on a milestone already disputed',
      (o) => [open(o), fund(o), dispute('DISPUTE_OPENED', o, 'm-1', { disputeId: 'd-1' })],
      3,
      (o) => dispute('DISPUTE_OPENED', o, 'm-1', { disputeId: 'd-2' }),
    ],
    [
      'DISPUTE_WITHDRAWN with no dispute open',
      (o) => [open(o), fund(o)],
      2,
      (o) => dispute('DISPUTE_WITHDRAWN', o, 'm-1', { disputeId: 'd-1' }),
    ],
    [
      'DISPUTE_RESOLVED naming another dispute than the open one',
      (o) => [open(o), fund(o), dispute('DISPUTE_OPENED', o, 'm-1', { disputeId: 'd-1' })],
      3,
      (o) => resolveDispute(o, 'm-1', '100.00', '0.00', { disputeId: 'd-other' }),
    ],
    [
      'REFUND_REQUESTED while disputed (funds frozen)',
      (o) => [open(o), fund(o), dispute('DISPUTE_OPENED', o, 'm-1', { disputeId: 'd-1' })],
      3,
      (o) => refund(o, 'm-1', '10.00'),
    ],
    [
      'MILESTONE_CANCELLED while disputed',
      (o) => [open(o), fund(o), dispute('DISPUTE_OPENED', o, 'm-1', { disputeId: 'd-1' })],
      3,
      (o) => cancelMilestone(o, 'm-1'),
    ],
    [
      'MILESTONE_CANCELLED on a released milestone',
      (o) => [open(o), fund(o), reached(o, 'm-1')],
      3,
      (o) => cancelMilestone(o, 'm-1'),
    ],
    [
      'REFUND_REQUESTED on a released milestone',
      (o) => [open(o), fund(o), reached(o, 'm-1')],
      3,
      (o) => refund(o, 'm-1', '10.00'),
    ],
  ];

  test.each(cases)('%s', async (name, setup, version, command) => {
    const orderId = `o-invalid-${cases.findIndex(([n]) => n === name)}`;
    await deliverAll(setup(orderId));
    await expectRefused(command(orderId), 'INVALID_STATE', {
      milestoneId: 'm-1',
      milestoneVersion: version,
    });
  });

  test('ORDER_OPENED for an order already open, under another eventId', async () => {
    const orderId = 'o-invalid-reopen';
    await deliverAll([open(orderId), fund(orderId)]);
    await expectRefused(
      openOrder(orderId, [milestone('m-1', '999.00')], { eventId: 'open-again' }),
      'INVALID_STATE',
      { milestoneId: null, milestoneVersion: null },
    );
  });
});

describe('ORDER_CANCELLED', () => {
  test('over milestones pending, partly funded, awaiting release with a timer, and disputed beside them', async () => {
    const orderId = 'o-cancel';
    pipeline.now = start;
    await deliverAll([
      openOrder(orderId, [
        milestone('m-1', '1000.00'),
        milestone('m-2', '1000.00'),
        milestone('m-3', '500.00', 3600),
        milestone('m-4', '200.00'),
        milestone('m-5', '100.00'),
      ]),
      payment(orderId, 'm-2', '300.00', 'ch-m2'),
      payment(orderId, 'm-3', '500.00', 'ch-m3'),
      reached(orderId, 'm-3'),
      payment(orderId, 'm-4', '200.00', 'ch-m4'),
      dispute('DISPUTE_OPENED', orderId, 'm-4', { disputeId: 'd-4' }),
      payment(orderId, 'm-5', '100.00', 'ch-m5'),
      reached(orderId, 'm-5'),
    ]);
    expect((await milestoneRow(ctx.db, orderId, 'm-3')).inspection_deadline).toEqual(
      new Date('2026-06-01T10:00:00Z'),
    );
    const stateOf = async (id: string) => (await balancesOf(ctx.db, orderId, id)).state;
    expect(await Promise.all(['m-1', 'm-2', 'm-3', 'm-4', 'm-5'].map(stateOf))).toEqual([
      'PENDING_FUNDING',
      'PARTIALLY_FUNDED',
      'AWAITING_RELEASE',
      'DISPUTED',
      'RELEASED',
    ]);
    const ledgerBefore = await ledgerOf(ctx.db, orderId);
    const released = await balancesOf(ctx.db, orderId, 'm-5');
    const mark = await outboxMark(ctx.db, orderId);

    pipeline.now = new Date('2026-06-01T09:30:00Z');
    expect((await pipeline.deliver(cancelOrder(orderId))).verdict).toBe('APPLIED');

    expect(await ctx.db('orders').where({ order_id: orderId }).first()).toMatchObject({
      state: 'CANCELLED',
    });
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('CANCELLED', 2, { amount: '100000' }),
    );
    expect(await balancesOf(ctx.db, orderId, 'm-2')).toEqual(
      balances('CANCELLED', 3, { amount: '100000', funded: '30000', refunded: '30000' }),
    );
    expect(await balancesOf(ctx.db, orderId, 'm-3')).toEqual(
      balances('CANCELLED', 4, { amount: '50000', funded: '50000', refunded: '50000' }),
    );
    expect((await milestoneRow(ctx.db, orderId, 'm-3')).inspection_deadline).toBeNull();
    // The disputed one stays with its dispute; the released one is not touched.
    expect(await balancesOf(ctx.db, orderId, 'm-4')).toEqual(
      balances('DISPUTED', 3, { amount: '20000', funded: '20000', disputed: '20000' }),
    );
    expect(await balancesOf(ctx.db, orderId, 'm-5')).toEqual(released);

    const rows = await outboxOf(ctx.db, orderId, mark);
    expect(rows.map(outcome)).toEqual([
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-1', milestoneVersion: 2, state: 'CANCELLED' },
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-2',
        milestoneVersion: 3,
        currency: 'USD',
        amount: '300.00',
        reason: 'CANCELLED',
      },
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-2', milestoneVersion: 3, state: 'CANCELLED' },
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-3',
        milestoneVersion: 4,
        currency: 'USD',
        amount: '500.00',
        reason: 'CANCELLED',
      },
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-3', milestoneVersion: 4, state: 'CANCELLED' },
      {
        type: 'MILESTONE_CANCELLED',
        milestoneId: null,
        milestoneVersion: null,
        state: 'CANCELLED',
      },
    ]);
    expect(detailsOf(rows.at(-1)!)).toEqual({ orderCancelled: true, leftDisputed: ['m-4'] });
    expect(rows[1]!.payload.gatewayReferences).toEqual(['ch-m2']);
    expect(rows[3]!.payload.gatewayReferences).toEqual(['ch-m3']);
    expect((await ledgerOf(ctx.db, orderId)).slice(ledgerBefore.length).map(posted)).toEqual([
      {
        kind: 'REFUND',
        milestoneId: 'm-2',
        cause: `cancel-${orderId}`,
        entries: { [hold(orderId, 'm-2')]: '-30000', [buyer(orderId)]: '30000' },
      },
      {
        kind: 'REFUND',
        milestoneId: 'm-3',
        cause: `cancel-${orderId}`,
        entries: { [hold(orderId, 'm-3')]: '-50000', [buyer(orderId)]: '50000' },
      },
    ]);

    // The timer that was running for m-3 finds nothing to release at its old deadline.
    pipeline.now = new Date('2026-06-01T10:00:00Z');
    const timer = new InspectionTimer(
      ctx.db,
      pipeline.settings(),
      createLogger({ LOG_LEVEL: 'silent' }),
    );
    await timer.fireDue();
    expect(await balancesOf(ctx.db, orderId, 'm-3')).toMatchObject({
      state: 'CANCELLED',
      version: 4,
    });
    expect((await ledgerOf(ctx.db, orderId)).filter((tx) => tx.kind === 'RELEASE')).toEqual([
      expect.objectContaining({ milestoneId: 'm-5' }),
    ]);

    // Cancelled twice: refused, nothing moves.
    await expectRefused(cancelOrder(orderId, 'cancel-again'), 'INVALID_STATE', {
      milestoneId: null,
      milestoneVersion: null,
    });
    // A cancelled order's milestones take no more commands, but its open dispute can still end.
    await expectRefused(reached(orderId, 'm-2'), 'INVALID_STATE', {
      milestoneId: 'm-2',
      milestoneVersion: 3,
    });

    const beforeWithdrawal = await outboxMark(ctx.db, orderId);
    const withdrawal = dispute('DISPUTE_WITHDRAWN', orderId, 'm-4', { disputeId: 'd-4' });
    expect((await pipeline.deliver(withdrawal)).verdict).toBe('APPLIED');
    expect(await balancesOf(ctx.db, orderId, 'm-4')).toEqual(
      balances('CANCELLED', 4, { amount: '20000', funded: '20000', refunded: '20000' }),
    );
    expect((await outboxOf(ctx.db, orderId, beforeWithdrawal)).map(outcome)).toEqual([
      { type: 'DISPUTE_WITHDRAWN', milestoneId: 'm-4', milestoneVersion: 4, state: 'FUNDED' },
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-4',
        milestoneVersion: 4,
        currency: 'USD',
        amount: '200.00',
        reason: 'CANCELLED',
      },
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-4', milestoneVersion: 4, state: 'CANCELLED' },
    ]);
    expect((await ledgerOf(ctx.db, orderId)).slice(-2).map(posted)).toEqual([
      {
        kind: 'DISPUTE_UNFREEZE',
        milestoneId: 'm-4',
        cause: withdrawal.eventId,
        entries: {
          [`DISPUTED_FUNDS:USD:${orderId}:m-4`]: '-20000',
          [hold(orderId, 'm-4')]: '20000',
        },
      },
      {
        kind: 'REFUND',
        milestoneId: 'm-4',
        cause: withdrawal.eventId,
        entries: { [hold(orderId, 'm-4')]: '-20000', [buyer(orderId)]: '20000' },
      },
    ]);
  });

  test('arriving before its order: kept, with a payment kept before it, and applied when the order opens', async () => {
    const orderId = 'o-cancel-early';
    pipeline.now = start;
    expect((await pipeline.deliver(payment(orderId, 'm-1', '300.00', 'ch-early'))).verdict).toBe(
      'KEPT',
    );
    const cancel = cancelOrder(orderId);
    expect((await pipeline.deliver(cancel)).verdict).toBe('KEPT');
    expect((await pipeline.deliver(cancel)).verdict).toBe('DUPLICATE');
    expect(await inboxVerdictOf(ctx.db, cancel.eventId)).toEqual({ outcome: 'KEPT', reason: null });
    expect(await ctx.db('orders').where({ order_id: orderId }).first()).toBeUndefined();

    const result = await pipeline.deliver(
      openOrder(orderId, [milestone('m-1', '1000.00'), milestone('m-2', '50.00')]),
    );
    expect(result).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 2 });
    expect(await ctx.db('orders').where({ order_id: orderId }).first()).toMatchObject({
      state: 'CANCELLED',
    });
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('CANCELLED', 3, { amount: '100000', funded: '30000', refunded: '30000' }),
    );
    expect(await balancesOf(ctx.db, orderId, 'm-2')).toEqual(
      balances('CANCELLED', 2, { amount: '5000' }),
    );
    expect(await inboxVerdictOf(ctx.db, cancel.eventId)).toEqual({
      outcome: 'APPLIED',
      reason: null,
    });
    expect(
      await ctx.db('kept_events').where({ order_id: orderId }).whereNull('replayed_at'),
    ).toEqual([]);
    const rows = await outboxOf(ctx.db, orderId);
    expect(rows.map((row) => [outcome(row), row.payload.causeEventId])).toEqual([
      [
        { type: 'ORDER_OPENED', milestoneId: null, milestoneVersion: null, state: 'OPEN' },
        `open-${orderId}`,
      ],
      [
        {
          type: 'MILESTONE_PARTIALLY_FUNDED',
          milestoneId: 'm-1',
          milestoneVersion: 2,
          state: 'PARTIALLY_FUNDED',
        },
        'pay-ch-early',
      ],
      [
        {
          type: 'REFUND_REQUESTED',
          milestoneId: 'm-1',
          milestoneVersion: 3,
          currency: 'USD',
          amount: '300.00',
          reason: 'CANCELLED',
        },
        cancel.eventId,
      ],
      [
        {
          type: 'MILESTONE_CANCELLED',
          milestoneId: 'm-1',
          milestoneVersion: 3,
          state: 'CANCELLED',
        },
        cancel.eventId,
      ],
      [
        {
          type: 'MILESTONE_CANCELLED',
          milestoneId: 'm-2',
          milestoneVersion: 2,
          state: 'CANCELLED',
        },
        cancel.eventId,
      ],
      [
        {
          type: 'MILESTONE_CANCELLED',
          milestoneId: null,
          milestoneVersion: null,
          state: 'CANCELLED',
        },
        cancel.eventId,
      ],
    ]);
    expect((await ledgerOf(ctx.db, orderId)).map(posted)).toEqual([
      {
        kind: 'FUNDING',
        milestoneId: 'm-1',
        cause: 'pay-ch-early',
        entries: { 'GATEWAY_CLEARING:USD': '-30000', [hold(orderId)]: '30000' },
      },
      {
        kind: 'REFUND',
        milestoneId: 'm-1',
        cause: cancel.eventId,
        entries: { [hold(orderId)]: '-30000', [buyer(orderId)]: '30000' },
      },
    ]);

    // Money arriving for the cancelled order goes straight back.
    const mark = await outboxMark(ctx.db, orderId);
    expect((await pipeline.deliver(payment(orderId, 'm-2', '50.00', 'ch-late'))).verdict).toBe(
      'APPLIED',
    );
    expect(await balancesOf(ctx.db, orderId, 'm-2')).toEqual(
      balances('CANCELLED', 2, { amount: '5000' }),
    );
    expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual([
      {
        type: 'REFUND_REQUESTED',
        // The milestone is not touched (no version), and the outcome names none.
        milestoneId: null,
        milestoneVersion: null,
        currency: 'USD',
        amount: '50.00',
        reason: 'OVERPAYMENT',
      },
    ]);
  });
});
