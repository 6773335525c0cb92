/**
 * Payments (CONTRACT.md, escrow.payment-confirmed.v1): what a refused payment
 * tells upstream (the payment, the order, the fix), and what each applied one
 * records — the ledger memo naming the payment, the amounts published, and
 * the refund of what cannot be used, with its reason, the payment it returns
 * and the milestone it belongs to (none when nothing of it was used).
 */
import type { Decision } from '../../../src/domain/escrow';
import { decided, openOrder, outcomeTypes, payment, simulator } from '../escrow/fixtures';

function opened() {
  const sim = simulator();
  sim.deliver(openOrder([{}, {}]));
  return sim;
}

const refundOf = (decision: Decision) =>
  decision.outcomes.find((o) => o.type === 'REFUND_REQUESTED')!;

test('a payment in another currency is refunded in full: CURRENCY_MISMATCH, pay in the order’s currency', () => {
  const sim = opened();
  const decision = decided(
    sim.deliver(payment('100.00', { currency: 'EUR', gatewayReference: 'ch-eur' })),
  );
  expect(decision.status).toBe('REJECTED');
  expect(decision.reason).toBe('CURRENCY_MISMATCH');
  expect(decision.message).toBe(
    'payment stripe/ch-eur is in EUR but order order-1 is in USD; it is refunded in full. Pay in USD.',
  );
  expect(decision.transactions).toEqual([
    expect.objectContaining({
      kind: 'CURRENCY_MISMATCH_REFUND',
      memo: { reason: 'CURRENCY_MISMATCH', gateway: 'stripe', gatewayReference: 'ch-eur' },
    }),
  ]);
  expect(refundOf(decision)).toMatchObject({
    milestoneId: null,
    fields: {
      amount: '100.00',
      currency: 'EUR',
      reason: 'CURRENCY_MISMATCH',
      gatewayReferences: ['ch-eur'],
    },
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a payment naming a milestone the order lacks is kept unmatched: UNKNOWN_MILESTONE with the fix', () => {
  const sim = opened();
  const decision = decided(
    sim.deliver(payment('100.00', { milestoneId: 'm-9', gatewayReference: 'ch-lost' })),
  );
  expect(decision.status).toBe('KEPT');
  expect(decision.reason).toBe('UNKNOWN_MILESTONE');
  expect(decision.message).toBe(
    'payment stripe/ch-lost names milestone m-9, which order order-1 does not have; it is kept ' +
      'unmatched for reconciliation. Send the milestoneId the order was opened with.',
  );
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
});

test('an amount with too many decimals is AMOUNT_PRECISION naming the amount field', () => {
  const decision = decided(opened().deliver(payment('100.001')));
  expect(decision.reason).toBe('AMOUNT_PRECISION');
  expect(decision.message).toMatch(/^amount: amount "100\.001" has 3 fractional /);
});

test('a service fee is revenue at once, the transfer naming the payment', () => {
  const sim = opened();
  const decision = decided(
    sim.deliver(
      payment('25.00', { kind: 'SERVICE_FEE', milestoneId: null, gatewayReference: 'ch-fee' }),
    ),
  );
  expect(decision.transactions).toEqual([
    expect.objectContaining({
      kind: 'SERVICE_FEE',
      milestoneId: null,
      memo: { gateway: 'stripe', gatewayReference: 'ch-fee' },
    }),
  ]);
  expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(2500n);
});

test('funding records the payment in the memo and publishes what was paid and what was applied', () => {
  const sim = opened();
  const decision = decided(
    sim.deliver(payment('1200.00', { kind: 'INSTALLMENT', gatewayReference: 'ch-big' })),
  );
  expect(decision.transactions.map((t) => [t.kind, t.memo])).toEqual([
    ['FUNDING', { paymentKind: 'INSTALLMENT', gateway: 'stripe', gatewayReference: 'ch-big' }],
    [
      'OVERPAYMENT_REFUND',
      { reason: 'OVERPAYMENT', gateway: 'stripe', gatewayReference: 'ch-big' },
    ],
  ]);
  expect(decision.outcomes[0]).toMatchObject({
    type: 'MILESTONE_FUNDED',
    fields: { paymentKind: 'INSTALLMENT', paymentAmount: '1200.00', appliedAmount: '1000.00' },
  });
  // Part of it was used: the refund of the rest belongs to the milestone.
  expect(refundOf(decision)).toMatchObject({
    milestoneId: 'm-1',
    fields: { amount: '200.00', reason: 'OVERPAYMENT', gatewayReferences: ['ch-big'] },
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a payment for a cancelled order is refunded whole, even for a milestone still disputed', () => {
  const sim = opened();
  sim.deliver(payment('400.00'));
  sim.deliver({
    type: 'DISPUTE_OPENED',
    eventId: 'open-d-1',
    orderId: 'order-1',
    milestoneId: 'm-1',
    disputeId: 'd-1',
  });
  sim.deliver({ type: 'ORDER_CANCELLED', eventId: 'cancel-1', orderId: 'order-1' });
  const decision = decided(sim.deliver(payment('600.00', { gatewayReference: 'ch-after' })));
  expect(decision.transactions.map((t) => t.kind)).toEqual(['OVERPAYMENT_REFUND']);
  expect(refundOf(decision)).toMatchObject({
    fields: { amount: '600.00', reason: 'OVERPAYMENT', gatewayReferences: ['ch-after'] },
  });
  expect(sim.milestones.get('m-1')).toMatchObject({
    state: 'DISPUTED',
    disputed: { minor: 40000n },
    funded: { minor: 40000n },
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a payment for a milestone funded already is refunded whole, as the order’s, not the milestone’s', () => {
  const sim = opened();
  sim.deliver(payment('1000.00'));
  const decision = decided(sim.deliver(payment('50.00', { gatewayReference: 'ch-late' })));
  expect(decision.transactions.map((t) => t.kind)).toEqual(['OVERPAYMENT_REFUND']);
  expect(outcomeTypes(decision)).toEqual(['REFUND_REQUESTED']);
  expect(refundOf(decision)).toMatchObject({
    milestoneId: null,
    fields: { amount: '50.00', reason: 'OVERPAYMENT', gatewayReferences: ['ch-late'] },
  });
  expect(sim.brokenInvariants()).toEqual([]);
});
