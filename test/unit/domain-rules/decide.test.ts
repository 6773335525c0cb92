/**
 * The guards every command on a milestone passes first (CONTRACT.md:
 * UNKNOWN_MILESTONE, CONFLICT on expectedVersion, a cancelled order, a
 * terminal milestone): each refusal names the milestone and what to do, and a
 * cancelled order still lets its open disputes be resolved or withdrawn.
 */
import type { Decision } from '../../../src/domain/escrow';
import { command, decided, openOrder, outcomeTypes, payment, simulator } from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;

function funded() {
  const sim = simulator();
  sim.deliver(openOrder([{}, {}]));
  sim.deliver(payment('1000.00'));
  return sim;
}

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

test('a milestone the order was not opened with is UNKNOWN_MILESTONE: use one it was opened with', () => {
  const sim = funded();
  const reached = command({
    type: 'MILESTONE_REACHED',
    orderId: 'order-1',
    milestoneId: 'm-9',
    condition: 'DELIVERY_CONFIRMED',
  });
  expect(rejection(decided(sim.deliver(reached)))).toEqual({
    reason: 'UNKNOWN_MILESTONE',
    message: 'order order-1 has no milestone m-9; use a milestoneId it was opened with',
  });
});

test('a stale expectedVersion is CONFLICT naming both versions: re-read and decide again', () => {
  const sim = funded();
  const refund = command({
    type: 'REFUND_REQUESTED',
    ...ids,
    amount: '10.00',
    reason: 'REQUESTED',
    expectedVersion: 1,
  });
  expect(rejection(decided(sim.deliver(refund)))).toEqual({
    reason: 'CONFLICT',
    message:
      'REFUND_REQUESTED expected milestone m-1 at version 1, but it is at version 2; ' +
      're-read it and decide again',
  });
  expect(sim.milestones.get('m-1')!.held.minor).toBe(100000n);
});

describe('a cancelled order', () => {
  function cancelledWhileDisputed() {
    const sim = funded();
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    decided(sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' })));
    return sim;
  }

  test('refuses new commands: only its open disputes can still be withdrawn or resolved', () => {
    const sim = cancelledWhileDisputed();
    const opened = command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-2' });
    expect(rejection(decided(sim.deliver(opened)))).toEqual({
      reason: 'INVALID_STATE',
      message:
        'order order-1 is cancelled; only its open disputes can still be withdrawn or resolved',
    });
  });

  test('still lets an open dispute be resolved', () => {
    const sim = cancelledWhileDisputed();
    const resolved = decided(
      sim.deliver(
        command({
          type: 'DISPUTE_RESOLVED',
          ...ids,
          disputeId: 'd-1',
          resolution: { providerAmount: '300.00', buyerAmount: '700.00' },
        }),
      ),
    );
    expect(resolved.status).toBe('APPLIED');
    expect(sim.milestones.get('m-1')).toMatchObject({ state: 'RELEASED', disputeId: null });
    expect(sim.brokenInvariants()).toEqual([]);
  });
});

test('a terminal milestone refuses the command by name: it no longer applies', () => {
  const sim = funded();
  sim.deliver(command({ type: 'MILESTONE_CANCELLED', ...ids }));
  const reached = command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' });
  expect(rejection(decided(sim.deliver(reached)))).toEqual({
    reason: 'INVALID_STATE',
    message: 'milestone m-1 is CANCELLED; MILESTONE_REACHED no longer applies',
  });
});
