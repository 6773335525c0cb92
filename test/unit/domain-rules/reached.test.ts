/**
 * MILESTONE_REACHED (CONTRACT.md, escrow.milestone-reached.v1): a condition
 * that does not satisfy the release condition is refused naming both and the
 * fix; a milestone is reached once; the outcome publishes the condition, the
 * final amount and the inspection deadline; a dispute pauses the clock, which
 * starts with its full length when the dispute is withdrawn.
 */
import type { Decision } from '../../../src/domain/escrow';
import {
  command,
  decided,
  openOrder,
  outcomeTypes,
  payment,
  simulator,
  start,
} from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;
const reach = (condition: string, finalAmount?: string) =>
  command({
    type: 'MILESTONE_REACHED',
    ...ids,
    condition,
    ...(finalAmount ? { finalAmount } : {}),
  });
const hour = 3600_000;

function funded(releaseCondition: 'DELIVERY_CONFIRMED' | 'ANY' = 'DELIVERY_CONFIRMED') {
  const sim = simulator();
  sim.deliver(openOrder([{ releaseCondition, inspectionPeriodSeconds: 3600 }, {}]));
  sim.deliver(payment('1000.00'));
  return sim;
}

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.milestones).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

test('another condition is CONDITION_NOT_MET naming both conditions and the one to send', () => {
  const sim = funded();
  expect(rejection(decided(sim.deliver(reach('BUYER_APPROVED'))))).toEqual({
    reason: 'CONDITION_NOT_MET',
    message:
      'milestone m-1 is released on DELIVERY_CONFIRMED, not on BUYER_APPROVED; send condition DELIVERY_CONFIRMED',
  });
  expect(sim.milestones.get('m-1')!.reached).toBe(false);
});

test('a milestone released on ANY is reached by any condition, and records which', () => {
  const sim = funded('ANY');
  const decision = decided(sim.deliver(reach('REPORT_SUBMITTED')));
  expect(decision.status).toBe('APPLIED');
  expect(sim.milestones.get('m-1')).toMatchObject({
    reached: true,
    reachedCondition: 'REPORT_SUBMITTED',
  });
});

test('a milestone is reached once: a second reach is INVALID_STATE', () => {
  const sim = funded();
  sim.deliver(reach('DELIVERY_CONFIRMED'));
  expect(rejection(decided(sim.deliver(reach('DELIVERY_CONFIRMED'))))).toEqual({
    reason: 'INVALID_STATE',
    message: 'milestone m-1 was already reached',
  });
});

test('a finalAmount with too many decimals is AMOUNT_PRECISION naming the finalAmount field', () => {
  const sim = funded();
  const refused = rejection(decided(sim.deliver(reach('DELIVERY_CONFIRMED', '800.001'))));
  expect(refused.reason).toBe('AMOUNT_PRECISION');
  expect(refused.message).toMatch(/^finalAmount: amount "800\.001" has 3 fractional /);
});

test('MILESTONE_REACHED publishes the condition, the final amount and the inspection deadline', () => {
  const sim = funded();
  const decision = decided(sim.deliver(reach('DELIVERY_CONFIRMED', '800')));
  expect(decision.outcomes[0]).toMatchObject({
    type: 'MILESTONE_REACHED',
    fields: {
      condition: 'DELIVERY_CONFIRMED',
      finalAmount: '800.00',
      inspectionDeadline: new Date(start.getTime() + hour).toISOString(),
    },
  });
  const plain = funded();
  expect(decided(plain.deliver(reach('DELIVERY_CONFIRMED'))).outcomes[0]!.fields).toMatchObject({
    finalAmount: null,
    amount: '1000.00',
  });
});

test('reached during a dispute, the clock waits and runs its full length from the withdrawal', () => {
  const sim = funded();
  sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
  const reached = decided(sim.deliver(reach('DELIVERY_CONFIRMED')));
  expect(reached.outcomes[0]!.fields).toMatchObject({ inspectionDeadline: null });
  expect(sim.milestones.get('m-1')).toMatchObject({
    inspectionDeadline: null,
    inspectionRemainingMs: hour,
  });
  sim.now = new Date(start.getTime() + 5 * hour);
  sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-1' }));
  expect(sim.milestones.get('m-1')!.inspectionDeadline).toEqual(
    new Date(start.getTime() + 6 * hour),
  );
  sim.now = new Date(start.getTime() + 6 * hour - 1);
  expect(decided(sim.deliver(command({ type: 'INSPECTION_ELAPSED', ...ids }))).status).toBe(
    'UNCHANGED',
  );
  sim.now = new Date(start.getTime() + 6 * hour);
  decided(sim.deliver(command({ type: 'INSPECTION_ELAPSED', ...ids })));
  expect(sim.milestones.get('m-1')!.state).toBe('RELEASED');
  expect(sim.brokenInvariants()).toEqual([]);
});
