/**
 * A finalAmount below what is held refunds the rest (CONTRACT.md,
 * milestone-reached: PARTIAL_COMPLETION), and a FINAL top-up beyond what the
 * final amount needs goes back as OVERPAYMENT. The refund's ledger memo
 * explains it: the reason, the final amount and the original estimate.
 */
import { command, decided, openOrder, payment, simulator } from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;
const reach = (finalAmount: string) =>
  command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED', finalAmount });

test('a lower final amount refunds the rest as PARTIAL_COMPLETION, the memo naming both amounts', () => {
  const sim = simulator();
  sim.deliver(openOrder([{ inspectionPeriodSeconds: 3600 }]));
  sim.deliver(payment('1000.00', { gatewayReference: 'ch-1' }));
  const decision = decided(sim.deliver(reach('800.00')));
  expect(decision.transactions.map((t) => [t.kind, t.memo])).toEqual([
    ['REFUND', { reason: 'PARTIAL_COMPLETION', finalAmount: '800.00', originalAmount: '1000.00' }],
  ]);
  expect(decision.outcomes.find((o) => o.type === 'REFUND_REQUESTED')!.fields).toMatchObject({
    amount: '200.00',
    reason: 'PARTIAL_COMPLETION',
    gatewayReferences: ['ch-1'],
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a FINAL top-up beyond the final amount goes back as OVERPAYMENT, the memo naming both amounts', () => {
  const sim = simulator();
  sim.deliver(openOrder([{ inspectionPeriodSeconds: 3600 }]));
  sim.deliver(payment('1000.00'));
  sim.deliver(payment('300.00', { kind: 'FINAL' }));
  const decision = decided(sim.deliver(reach('1100.00')));
  expect(decision.transactions.map((t) => [t.kind, t.memo])).toEqual([
    ['REFUND', { reason: 'OVERPAYMENT', finalAmount: '1100.00', originalAmount: '1000.00' }],
  ]);
  expect(sim.milestones.get('m-1')).toMatchObject({
    held: { minor: 110000n },
    refunded: { minor: 20000n },
  });
  expect(sim.brokenInvariants()).toEqual([]);
});
