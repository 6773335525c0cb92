/**
 * Sequences a review found mishandled, each kept as a test: the contract's
 * rule, the sequence, and what must come out.
 */
import { defaultFeePolicy } from '../../../src/domain/fees';
import { formatAmount } from '../../../src/domain/money';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, outcomeTypes, payment, simulator, start } from './fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;

test('a minimum fee that takes the whole gross releases with no zero provider line and asks for no payout', () => {
  const sim = new EscrowSimulator(start, {
    ...defaultFeePolicy('0.10'),
    minimumFees: { USD: '5.00' },
  });
  sim.deliver(openOrder([{ amount: '5.00' }]));
  sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' }));
  const decision = decided(sim.deliver(payment('5.00')));
  const release = decision.transactions.find((t) => t.kind === 'RELEASE')!;
  expect(release.postings.map((p) => [p.account.kind, p.amount.minor])).toEqual([
    ['ESCROW_HOLD', -500n],
    ['PLATFORM_REVENUE', 500n],
  ]);
  // Nothing to pay, nothing asked: a zero payout would wait for a settlement that never comes.
  expect(decision.outcomes.map((o) => o.type)).not.toContain('PAYOUT_REQUESTED');
  expect(decision.outcomes.find((o) => o.type === 'MILESTONE_RELEASED')!.fields).toMatchObject({
    grossAmount: '5.00',
    feeAmount: '5.00',
    netAmount: '0.00',
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a finalAmount lowered during a dispute is refunded when the dispute is withdrawn, not paid out', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
  sim.deliver(
    command({
      type: 'MILESTONE_REACHED',
      ...ids,
      condition: 'DELIVERY_CONFIRMED',
      finalAmount: '600.00',
    }),
  );
  const withdrawn = decided(
    sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-1' })),
  );
  expect(outcomeTypes(withdrawn)).toEqual([
    'DISPUTE_WITHDRAWN',
    'FUNDS_REFUNDED',
    'REFUND_REQUESTED',
    'MILESTONE_RELEASED',
    'PAYOUT_REQUESTED',
  ]);
  expect(withdrawn.outcomes[2]!.fields).toMatchObject({
    reason: 'PARTIAL_COMPLETION',
    amount: '400.00',
  });
  expect(withdrawn.outcomes[4]!.fields).toMatchObject({
    grossAmount: '600.00',
    netAmount: '540.00',
  });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a full refund leaves the milestone REFUNDED with amount zero, which storage accepts', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  sim.deliver(
    command({ type: 'REFUND_REQUESTED', ...ids, amount: '1000.00', reason: 'REQUESTED' }),
  );
  const m = sim.milestones.get('m-1')!;
  expect([m.state, formatAmount(m.amount), formatAmount(m.originalAmount)]).toEqual([
    'REFUNDED',
    '0.00',
    '1000.00',
  ]);
});

test('a milestone disputed when its order was cancelled is cancelled when the dispute is withdrawn', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
  sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' }));
  expect(sim.milestones.get('m-1')!.state).toBe('DISPUTED');
  const reached = decided(
    sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' })),
  );
  expect(reached).toMatchObject({ status: 'REJECTED', reason: 'INVALID_STATE' });
  const withdrawn = decided(
    sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-1' })),
  );
  expect(outcomeTypes(withdrawn)).toEqual([
    'DISPUTE_WITHDRAWN',
    'REFUND_REQUESTED',
    'MILESTONE_CANCELLED',
  ]);
  expect(withdrawn.outcomes[1]!.fields).toMatchObject({ reason: 'CANCELLED', amount: '1000.00' });
  expect(sim.milestones.get('m-1')!.state).toBe('CANCELLED');
  expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(0n);
  expect(sim.brokenInvariants()).toEqual([]);
});

test('an upstream refund reason is not passed off as one of the platform own reasons', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  const decision = decided(
    sim.deliver(
      command({ type: 'REFUND_REQUESTED', ...ids, amount: '10.00', reason: 'OVERPAYMENT' }),
    ),
  );
  expect(decision.outcomes[0]!.fields).toMatchObject({ reason: 'REQUESTED' });
  expect(decision.outcomes[1]!.fields).toMatchObject({ requestedReason: 'OVERPAYMENT' });
  const half = decided(
    sim.deliver(
      command({ type: 'REFUND_REQUESTED', ...ids, amount: '10.00', reason: 'PARTIAL_COMPLETION' }),
    ),
  );
  expect(half.outcomes[0]!.fields).toMatchObject({ reason: 'PARTIAL_COMPLETION' });
});
