/**
 * Chargebacks after release reverse the fee in proportion to what is still
 * standing (chargebacks.ts sourcesOn): each counts the earlier chargebacks of
 * its milestone, so rounding never reverses more fee than the release charged.
 */
import type { Settle } from '../../../src/domain/escrow';
import { defaultFeePolicy } from '../../../src/domain/fees';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, payment, start } from '../escrow/fixtures';

test('three chargebacks of a released milestone reverse exactly its 5.00 minimum fee, no cent more', () => {
  const sim = new EscrowSimulator(start, {
    ...defaultFeePolicy('0.10'),
    minimumFees: { USD: '5.00' },
  });
  sim.deliver(openOrder([{ amount: '10.00' }]));
  const payments = ['3.33', '3.33', '3.34'].map((amount, index) =>
    payment(amount, { gatewayReference: `ch-${index}` }),
  );
  for (const funding of payments) sim.deliver(funding);
  sim.deliver(
    command({
      type: 'MILESTONE_REACHED',
      orderId: 'order-1',
      milestoneId: 'm-1',
      condition: 'DELIVERY_CONFIRMED',
    }),
  );
  expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(500n);
  const reversed = payments.map((funding) => {
    const chargeback = command({
      type: 'CHARGEBACK',
      orderId: 'order-1',
      milestoneId: 'm-1',
      outcomeId: null,
      gateway: 'stripe',
      gatewayReference: funding.gatewayReference,
      amount: funding.amount,
      currency: 'USD',
      reason: null,
    }) as Settle;
    return decided(sim.deliver(chargeback)).outcomes[0]!.fields.feeReversed;
  });
  // 3.33 × 5.00 / 10.00 = 1.665 → 1.67; then 3.33 × 3.33 / 6.67 → 1.66; the rest, 1.67.
  expect(reversed).toEqual(['1.67', '1.66', '1.67']);
  expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(0n);
  expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(-500n);
  expect(sim.brokenInvariants()).toEqual([]);
});
