/**
 * Refunds and cancellations (CONTRACT.md, escrow.orders.v1): what a refused
 * refund or cancellation tells the operator (the milestone, the amounts, the
 * fix), and what an applied one records (the refunded amount in the outcome,
 * the reason upstream gave in the ledger memo).
 */
import type { Decision } from '../../../src/domain/escrow';
import type { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, outcomeTypes, payment, simulator } from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;

function funded(amount = '1000.00'): EscrowSimulator {
  const sim = simulator();
  sim.deliver(openOrder([{}, {}]));
  sim.deliver(payment(amount));
  return sim;
}

const refund = (amount: string, reason = 'REQUESTED') =>
  command({ type: 'REFUND_REQUESTED', ...ids, amount, reason });

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

describe('a refund request', () => {
  test('on a disputed milestone is INVALID_STATE: its funds are frozen until the dispute is resolved', () => {
    const sim = funded();
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    expect(rejection(decided(sim.deliver(refund('100.00'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 is disputed: its funds are frozen until the dispute is resolved',
    });
  });

  test('above what is held is OVER_REFUND naming both amounts and the limit', () => {
    const sim = funded('600.00');
    expect(rejection(decided(sim.deliver(refund('600.01'))))).toEqual({
      reason: 'OVER_REFUND',
      message:
        'refund of 600.01 exceeds the 600.00 held for milestone m-1; refund at most what is held',
    });
    expect(sim.milestones.get('m-1')!.held.minor).toBe(60000n);
  });

  test('with too many decimals is AMOUNT_PRECISION naming the amount field', () => {
    const sim = funded();
    const refused = rejection(decided(sim.deliver(refund('10.001'))));
    expect(refused.reason).toBe('AMOUNT_PRECISION');
    expect(refused.message).toMatch(/^amount: amount "10\.001" has 3 fractional /);
  });

  test('keeps the reason upstream gave in the ledger memo, beside the published reason', () => {
    const sim = funded();
    const decision = decided(sim.deliver(refund('250.00', 'work half done')));
    expect(decision.transactions).toHaveLength(1);
    expect(decision.transactions[0]).toMatchObject({
      kind: 'REFUND',
      memo: { reason: 'REQUESTED', requestedReason: 'work half done', originalAmount: '1000.00' },
    });
  });
});

describe('cancelling', () => {
  test('a milestone publishes MILESTONE_CANCELLED with the amount refunded', () => {
    const sim = funded('400.00');
    const decision = decided(sim.deliver(command({ type: 'MILESTONE_CANCELLED', ...ids })));
    expect(outcomeTypes(decision)).toEqual(['REFUND_REQUESTED', 'MILESTONE_CANCELLED']);
    expect(decision.outcomes[1]!.fields).toMatchObject({
      state: 'CANCELLED',
      refundAmount: '400.00',
      held: '0.00',
      refunded: '400.00',
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a disputed milestone is INVALID_STATE: resolve or withdraw the dispute first', () => {
    const sim = funded();
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    expect(
      rejection(decided(sim.deliver(command({ type: 'MILESTONE_CANCELLED', ...ids })))),
    ).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 is disputed; resolve or withdraw the dispute first',
    });
    expect(sim.milestones.get('m-1')).toMatchObject({ state: 'DISPUTED', disputeId: 'd-1' });
  });

  test('an order cancels what is open, leaves released ones alone and lists only the disputed as left', () => {
    const sim = simulator();
    sim.deliver(openOrder([{}, { milestoneId: 'm-2' }, { milestoneId: 'm-3' }]));
    for (const milestoneId of ['m-1', 'm-2', 'm-3'])
      sim.deliver(payment('1000.00', { milestoneId }));
    sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' }));
    sim.deliver(
      command({ type: 'DISPUTE_OPENED', orderId: 'order-1', milestoneId: 'm-2', disputeId: 'd-2' }),
    );
    const decision = decided(sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' })));
    expect(decision.order).toMatchObject({ state: 'CANCELLED' });
    expect(decision.milestones.map((m) => [m.milestoneId, m.state])).toEqual([
      ['m-3', 'CANCELLED'],
    ]);
    expect(decision.outcomes.at(-1)).toMatchObject({
      type: 'MILESTONE_CANCELLED',
      milestoneId: null,
      fields: { state: 'CANCELLED', orderCancelled: true, leftDisputed: ['m-2'] },
    });
    expect(sim.milestones.get('m-1')!.state).toBe('RELEASED');
    expect(sim.milestones.get('m-2')!.state).toBe('DISPUTED');
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('an order a second time is INVALID_STATE: it is already cancelled', () => {
    const sim = funded();
    decided(sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' })));
    const again = decided(sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' })));
    expect(rejection(again)).toEqual({
      reason: 'INVALID_STATE',
      message: 'order order-1 is already cancelled',
    });
    expect(again.milestones).toEqual([]);
  });
});
