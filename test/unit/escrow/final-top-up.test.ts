/**
 * The order of a FINAL top-up and the milestone-reached event that names the
 * final amount arrive on different topics, and that order must not change
 * where the money goes. A FINAL payment that arrives first is held in full
 * (not refunded as excess) until the reach names the final amount; then what
 * the final amount does not need goes back as OVERPAYMENT, and an estimate the
 * final amount undercuts as PARTIAL_COMPLETION, as when the reach came first.
 */
import type { Decision, EscrowCommand } from '../../../src/domain/escrow';
import { command, decided, openOrder, payment, simulator } from './fixtures';

/** Payouts and refunds a run produced, as their money: the comparison the rule promises. */
function moneyOut(decisions: Decision[]) {
  const payouts: string[] = [];
  const refunds: string[] = [];
  for (const outcome of decisions.flatMap((decision) => decision.outcomes)) {
    const fields = outcome.fields as Record<string, string>;
    if (outcome.type === 'PAYOUT_REQUESTED') {
      payouts.push(`${fields.grossAmount} / ${fields.feeAmount} / ${fields.netAmount}`);
    }
    if (outcome.type === 'REFUND_REQUESTED') refunds.push(`${fields.amount} ${fields.reason}`);
  }
  return { payouts: payouts.sort(), refunds: refunds.sort() };
}

function run(steps: EscrowCommand[]) {
  const sim = simulator();
  const decisions = steps.map((step) => decided(sim.deliver(step)));
  expect(sim.brokenInvariants()).toEqual([]);
  return { ...moneyOut(decisions), milestone: sim.milestones.get('m-1')! };
}

function bothOrders(topUp: string, finalAmount: string | undefined) {
  const open = openOrder();
  const deposit = payment('1000.00');
  const final = payment(topUp, { kind: 'FINAL' });
  const reached = command({
    type: 'MILESTONE_REACHED',
    orderId: 'order-1',
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
    ...(finalAmount === undefined ? {} : { finalAmount }),
  });
  return {
    reachedFirst: run([open, deposit, reached, final]),
    topUpFirst: run([open, deposit, final, reached]),
  };
}

test('a higher final amount: 1200 released (fee 120, net 1080) whichever comes first', () => {
  const { reachedFirst, topUpFirst } = bothOrders('200.00', '1200.00');
  expect(reachedFirst.payouts).toEqual(['1200.00 / 120.00 / 1080.00']);
  expect(reachedFirst.refunds).toEqual([]);
  expect(topUpFirst).toMatchObject({ payouts: reachedFirst.payouts, refunds: [] });
  expect(topUpFirst.milestone.state).toBe('RELEASED');
  expect(topUpFirst.milestone.held.minor).toBe(0n);
});

test('a top-up larger than the final amount needs: the rest is an overpayment in both orders', () => {
  const { reachedFirst, topUpFirst } = bothOrders('300.00', '1200.00');
  expect(reachedFirst.payouts).toEqual(['1200.00 / 120.00 / 1080.00']);
  expect(reachedFirst.refunds).toEqual(['100.00 OVERPAYMENT']);
  expect({ payouts: topUpFirst.payouts, refunds: topUpFirst.refunds }).toEqual({
    payouts: reachedFirst.payouts,
    refunds: reachedFirst.refunds,
  });
});

test('a lower final amount: 900 released, the same refunds and reasons in both orders', () => {
  const { reachedFirst, topUpFirst } = bothOrders('200.00', '900.00');
  expect(reachedFirst.payouts).toEqual(['900.00 / 90.00 / 810.00']);
  expect(reachedFirst.refunds).toEqual(['100.00 PARTIAL_COMPLETION', '200.00 OVERPAYMENT']);
  expect({ payouts: topUpFirst.payouts, refunds: topUpFirst.refunds }).toEqual({
    payouts: reachedFirst.payouts,
    refunds: reachedFirst.refunds,
  });
});

test('no final amount: the estimate is released and the top-up refunded, in both orders', () => {
  const { reachedFirst, topUpFirst } = bothOrders('50.00', undefined);
  expect(reachedFirst.payouts).toEqual(['1000.00 / 100.00 / 900.00']);
  expect(reachedFirst.refunds).toEqual(['50.00 OVERPAYMENT']);
  expect({ payouts: topUpFirst.payouts, refunds: topUpFirst.refunds }).toEqual({
    payouts: reachedFirst.payouts,
    refunds: reachedFirst.refunds,
  });
});

test('a dispute opened while a top-up waits refunds the top-up first, then freezes the rest', () => {
  const sim = simulator();
  for (const step of [openOrder(), payment('1000.00'), payment('200.00', { kind: 'FINAL' })]) {
    sim.deliver(step);
  }
  const opened = decided(
    sim.deliver(
      command({
        type: 'DISPUTE_OPENED',
        orderId: 'order-1',
        milestoneId: 'm-1',
        disputeId: 'd-1',
      }),
    ),
  );
  expect(moneyOut([opened]).refunds).toEqual(['200.00 OVERPAYMENT']);
  expect(sim.milestones.get('m-1')!.disputed.minor).toBe(100000n);
  expect(sim.brokenInvariants()).toEqual([]);
});
