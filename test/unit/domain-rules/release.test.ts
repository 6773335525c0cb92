/**
 * A release's ledger transaction explains its fee (CONTRACT.md, "Fees";
 * DESIGN.md: every entry records its cause and the original intent stays
 * visible): the policy and rate in force at release, whether the minimum
 * applied, the milestone's original amount after a partial refund, and what
 * a provider receivable took from it.
 */
import { defaultFeePolicy } from '../../../src/domain/fees';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, payment, start } from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;
const reach = () => command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' });

test('after a partial refund, the release memo keeps the original amount beside the fee terms', () => {
  const sim = new EscrowSimulator(start, defaultFeePolicy('0.10'));
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00'));
  sim.deliver(command({ type: 'REFUND_REQUESTED', ...ids, amount: '400.00', reason: 'REQUESTED' }));
  const decision = decided(sim.deliver(reach()));
  const release = decision.transactions.find((t) => t.kind === 'RELEASE')!;
  expect(release.memo).toEqual({
    originalAmount: '1000.00',
    feePolicyId: null,
    feeRate: '0.10',
    minimumFeeApplied: false,
    recoveredAmount: '0.00',
  });
  expect(release.release).toMatchObject({ providerId: 'provider-1' });
  expect(sim.brokenInvariants()).toEqual([]);
});

test('a release under a stored policy whose minimum applies says so, with the policy id', () => {
  const policy = {
    ...defaultFeePolicy('0.10'),
    policyId: 4,
    minimumFees: { USD: '5.00' },
  };
  const sim = new EscrowSimulator(start, policy);
  sim.deliver(openOrder([{ amount: '20.00' }]));
  sim.deliver(payment('20.00'));
  const decision = decided(sim.deliver(reach()));
  const release = decision.transactions.find((t) => t.kind === 'RELEASE')!;
  expect(release.memo).toMatchObject({
    originalAmount: '20.00',
    feePolicyId: 4,
    minimumFeeApplied: true,
  });
  expect(decision.outcomes.find((o) => o.type === 'PAYOUT_REQUESTED')!.fields).toMatchObject({
    grossAmount: '20.00',
    feeAmount: '5.00',
    netAmount: '15.00',
  });
});
