/**
 * CONTRACT.md, milestone states: RELEASED, REFUNDED and CANCELLED are
 * terminal. The state derived from a milestone's totals never moves one out
 * of them, whatever its totals say (a released milestone holds nothing, like
 * one waiting for its first payment).
 */
import { derivedState } from '../../../src/domain/escrow';
import { command, openOrder, payment, simulator } from '../escrow/fixtures';

test.each([
  [
    'RELEASED',
    command({
      type: 'MILESTONE_REACHED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      condition: 'DELIVERY_CONFIRMED',
    }),
  ],
  ['CANCELLED', command({ type: 'MILESTONE_CANCELLED', orderId: 'order-1', milestoneId: 'm-1' })],
  [
    'REFUNDED',
    command({
      type: 'REFUND_REQUESTED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      amount: '1000.00',
      reason: 'REQUESTED',
    }),
  ],
])('a %s milestone keeps its state, though it holds nothing', (state, last) => {
  const sim = simulator();
  sim.deliver(openOrder([{}, {}]));
  sim.deliver(payment('1000.00'));
  sim.deliver(last);
  const milestone = sim.milestones.get('m-1')!;
  expect(milestone.state).toBe(state);
  expect(milestone.held.minor).toBe(0n);
  expect(derivedState(milestone)).toBe(state);
});
