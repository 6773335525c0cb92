import { formatAmount } from '../../../src/domain/money';
import { command, decided, openOrder, outcomeTypes, payment, simulator, start } from './fixtures';

const amounts = (sim: ReturnType<typeof simulator>, id = 'm-1') => {
  const m = sim.milestones.get(id)!;
  return {
    state: m.state,
    version: m.version,
    amount: formatAmount(m.amount),
    funded: formatAmount(m.funded),
    held: formatAmount(m.held),
    released: formatAmount(m.released),
    fees: formatAmount(m.fees),
    refunded: formatAmount(m.refunded),
  };
};

test('an order opens with its milestones pending funding at version 1', () => {
  const sim = simulator();
  const decision = decided(sim.deliver(openOrder([{}, { amount: '250.50' }])));
  expect(decision.status).toBe('APPLIED');
  expect(outcomeTypes(decision)).toEqual(['ORDER_OPENED']);
  expect(amounts(sim, 'm-2')).toMatchObject({
    state: 'PENDING_FUNDING',
    version: 1,
    amount: '250.50',
  });
});

test('a deposit and an installment fund the milestone step by step', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  expect(outcomeTypes(decided(sim.deliver(payment('300.00'))))).toEqual([
    'MILESTONE_PARTIALLY_FUNDED',
  ]);
  expect(amounts(sim)).toMatchObject({ state: 'PARTIALLY_FUNDED', version: 2, held: '300.00' });
  const funded = decided(sim.deliver(payment('700.00', { kind: 'INSTALLMENT' })));
  expect(outcomeTypes(funded)).toEqual(['MILESTONE_FUNDED']);
  expect(amounts(sim)).toMatchObject({
    state: 'FUNDED',
    version: 3,
    held: '1000.00',
    funded: '1000.00',
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('funds beyond what the milestone still needs are refunded as OVERPAYMENT', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  const pay = payment('1200.00', { gatewayReference: 'ch-over' });
  const decision = decided(sim.deliver(pay));
  expect(outcomeTypes(decision)).toEqual(['MILESTONE_FUNDED', 'REFUND_REQUESTED']);
  expect(decision.outcomes[1]!.fields).toMatchObject({
    reason: 'OVERPAYMENT',
    amount: '200.00',
    buyerId: 'buyer-1',
    gatewayReferences: ['ch-over'],
  });
  expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(20000n);
  expect(amounts(sim)).toMatchObject({ held: '1000.00', funded: '1000.00', refunded: '0.00' });
  // A payment to a fully funded milestone is refunded whole, and the milestone does not change.
  const later = decided(sim.deliver(payment('5.00')));
  expect(outcomeTypes(later)).toEqual(['REFUND_REQUESTED']);
  expect(later.milestones).toEqual([]);
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a payment in another currency is rejected with CURRENCY_MISMATCH and refunded in full', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  const decision = decided(sim.deliver(payment('100.00', { currency: 'EUR' })));
  expect(decision).toMatchObject({ status: 'REJECTED', reason: 'CURRENCY_MISMATCH' });
  expect(outcomeTypes(decision)).toEqual(['REFUND_REQUESTED', 'EVENT_REJECTED']);
  expect(decision.outcomes[0]!.fields).toMatchObject({
    reason: 'CURRENCY_MISMATCH',
    currency: 'EUR',
  });
  expect(sim.balance('BUYER_REFUND_PAYABLE:EUR:buyer-1')).toBe(10000n);
  expect(amounts(sim)).toMatchObject({ version: 1, held: '0.00' });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a service fee is platform revenue at once', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('15.00', { kind: 'SERVICE_FEE', milestoneId: null }));
  expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(1500n);
  expect(amounts(sim)).toMatchObject({ version: 1, held: '0.00' });
});

test('a payment that arrives before its order is kept and applied when the order opens', () => {
  const sim = simulator();
  expect(decided(sim.deliver(payment('1000.00'))).status).toBe('KEPT');
  expect(sim.transactions).toEqual([]);
  sim.deliver(openOrder());
  expect(amounts(sim)).toMatchObject({ state: 'FUNDED', held: '1000.00' });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('reached and funded with no inspection period: released at once, fee at 10% half-up', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  const decision = decided(
    sim.deliver(
      command({
        type: 'MILESTONE_REACHED',
        orderId: 'order-1',
        milestoneId: 'm-1',
        condition: 'DELIVERY_CONFIRMED',
      }),
    ),
  );
  expect(outcomeTypes(decision)).toEqual([
    'MILESTONE_REACHED',
    'MILESTONE_RELEASED',
    'PAYOUT_REQUESTED',
  ]);
  expect(decision.outcomes[2]).toMatchObject({
    topic: 'escrow.payouts.v1',
    milestoneVersion: 3,
    fields: {
      providerId: 'provider-1',
      grossAmount: '1000.00',
      feeAmount: '100.00',
      netAmount: '900.00',
    },
  });
  expect(amounts(sim)).toMatchObject({
    state: 'RELEASED',
    version: 3,
    released: '1000.00',
    fees: '100.00',
  });
  expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(90000n);
  expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(10000n);
  expect(sim.brokenInvariants()).toEqual([]);
});

test('the inspection period delays the release; the timer releases once it has passed', () => {
  const sim = simulator();
  sim.deliver(openOrder([{ inspectionPeriodSeconds: 3600 }]));
  sim.deliver(payment('1000.00'));
  sim.deliver(
    command({
      type: 'MILESTONE_REACHED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      condition: 'DELIVERY_CONFIRMED',
    }),
  );
  expect(amounts(sim)).toMatchObject({ state: 'AWAITING_RELEASE' });
  expect(sim.milestones.get('m-1')!.inspectionDeadline).toEqual(
    new Date(start.getTime() + 3600_000),
  );

  sim.now = new Date(start.getTime() + 3599_000);
  const early = decided(
    sim.deliver(command({ type: 'INSPECTION_ELAPSED', orderId: 'order-1', milestoneId: 'm-1' })),
  );
  expect(early.status).toBe('UNCHANGED');

  sim.now = new Date(start.getTime() + 3600_000);
  const due = decided(
    sim.deliver(command({ type: 'INSPECTION_ELAPSED', orderId: 'order-1', milestoneId: 'm-1' })),
  );
  expect(outcomeTypes(due)).toEqual(['MILESTONE_RELEASED', 'PAYOUT_REQUESTED']);
  // A timer that fires again after the release finds nothing to do.
  const again = decided(
    sim.deliver(command({ type: 'INSPECTION_ELAPSED', orderId: 'order-1', milestoneId: 'm-1' })),
  );
  expect(again.status).toBe('UNCHANGED');
  expect(sim.brokenInvariants()).toEqual([]);
});

test('reached before funded: the release waits for the funding that comes last', () => {
  const sim = simulator();
  sim.deliver(openOrder([{ releaseCondition: 'ANY' }]));
  sim.deliver(
    command({
      type: 'MILESTONE_REACHED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      condition: 'REPORT_SUBMITTED',
    }),
  );
  expect(amounts(sim)).toMatchObject({ state: 'PENDING_FUNDING' });
  sim.deliver(payment('400.00'));
  expect(amounts(sim)).toMatchObject({ state: 'AWAITING_RELEASE', held: '400.00' });
  const last = decided(sim.deliver(payment('600.00', { kind: 'INSTALLMENT' })));
  expect(outcomeTypes(last)).toEqual([
    'MILESTONE_FUNDED',
    'MILESTONE_RELEASED',
    'PAYOUT_REQUESTED',
  ]);
});

test('finalAmount lower than held: the rest is refunded as PARTIAL_COMPLETION, finalAmount released', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  const decision = decided(
    sim.deliver(
      command({
        type: 'MILESTONE_REACHED',
        orderId: 'order-1',
        milestoneId: 'm-1',
        condition: 'DELIVERY_CONFIRMED',
        finalAmount: '500.00',
      }),
    ),
  );
  expect(outcomeTypes(decision)).toEqual([
    'MILESTONE_REACHED',
    'FUNDS_REFUNDED',
    'REFUND_REQUESTED',
    'MILESTONE_RELEASED',
    'PAYOUT_REQUESTED',
  ]);
  expect(decision.outcomes[2]!.fields).toMatchObject({
    reason: 'PARTIAL_COMPLETION',
    amount: '500.00',
  });
  expect(decision.outcomes[4]!.fields).toMatchObject({
    grossAmount: '500.00',
    feeAmount: '50.00',
    netAmount: '450.00',
  });
  const m = sim.milestones.get('m-1')!;
  expect(formatAmount(m.originalAmount)).toBe('1000.00');
  expect(sim.brokenInvariants()).toEqual([]);
});

test('finalAmount higher than held: the milestone waits for a FINAL top-up, then releases', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  sim.deliver(
    command({
      type: 'MILESTONE_REACHED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      condition: 'DELIVERY_CONFIRMED',
      finalAmount: '1100.00',
    }),
  );
  expect(amounts(sim)).toMatchObject({
    state: 'AWAITING_RELEASE',
    amount: '1100.00',
    held: '1000.00',
  });
  const topUp = decided(sim.deliver(payment('100.00', { kind: 'FINAL' })));
  expect(topUp.outcomes.find((o) => o.type === 'PAYOUT_REQUESTED')!.fields).toMatchObject({
    grossAmount: '1100.00',
    feeAmount: '110.00',
    netAmount: '990.00',
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a condition that does not satisfy the release condition is rejected with CONDITION_NOT_MET', () => {
  const sim = simulator();
  sim.deliver(openOrder([{ releaseCondition: 'BUYER_APPROVED' }]));
  const decision = decided(
    sim.deliver(
      command({
        type: 'MILESTONE_REACHED',
        orderId: 'order-1',
        milestoneId: 'm-1',
        condition: 'DELIVERY_CONFIRMED',
      }),
    ),
  );
  expect(decision).toMatchObject({ status: 'REJECTED', reason: 'CONDITION_NOT_MET' });
  expect(decision.outcomes[0]!.fields).toMatchObject({ reason: 'CONDITION_NOT_MET' });
  expect(amounts(sim)).toMatchObject({ version: 1 });
});
