import { defaultFeePolicy } from '../../../src/domain/fees';
import { formatAmount } from '../../../src/domain/money';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, outcomeTypes, payment, simulator, start } from './fixtures';

const fundedMilestone = (inspectionPeriodSeconds = 0) => {
  const sim = simulator();
  sim.deliver(openOrder([{ inspectionPeriodSeconds }, {}]));
  sim.deliver(payment('1000.00'));
  return sim;
};
const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;

describe('partial refunds', () => {
  test('1000.00 at 10%, refund 500.00: pending earnings 450.00, pending fee 50.00, intent kept', () => {
    const sim = fundedMilestone();
    const decision = decided(
      sim.deliver(
        command({ type: 'REFUND_REQUESTED', ...ids, amount: '500.00', reason: 'work half done' }),
      ),
    );
    expect(outcomeTypes(decision)).toEqual(['REFUND_REQUESTED', 'FUNDS_REFUNDED']);
    expect(decision.outcomes[0]!.fields).toMatchObject({ reason: 'REQUESTED', amount: '500.00' });
    expect(decision.outcomes[1]!.fields).toMatchObject({
      pendingFeeBefore: '100.00',
      pendingEarningsBefore: '900.00',
      pendingFee: '50.00',
      pendingEarnings: '450.00',
      originalAmount: '1000.00',
      amount: '500.00',
      held: '500.00',
      requestedReason: 'work half done',
    });
    expect(decision.transactions[0]!.memo).toMatchObject({ originalAmount: '1000.00' });
    // The release later pays exactly the pending split.
    const released = decided(
      sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' })),
    );
    expect(released.outcomes.find((o) => o.type === 'PAYOUT_REQUESTED')!.fields).toMatchObject({
      grossAmount: '500.00',
      feeAmount: '50.00',
      netAmount: '450.00',
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  // The pending split FUNDS_REFUNDED publishes is the fee a release right after
  // the refund charges: taken afresh on what stays held, not scaled from before.
  test.each([
    // A 1.00 minimum: scaled, 5.00 refunded 2.50 would show 0.50 / 2.00.
    ['a 1.00 minimum', '5.00', '2.50', '1.00', '1.50', { minimumFees: { USD: '1.00' } }],
    // A plain 10 %: scaled, 0.05 refunded 0.01 would show a fee of 0.01 (0.005 half-up).
    ['a plain 10 %', '0.05', '0.01', '0.00', '0.04', {}],
  ])(
    'with %s, %s refunded %s publishes the fee the release then charges',
    (_, funded, refunded, fee, net, rules) => {
      const sim = new EscrowSimulator(start, { ...defaultFeePolicy('0.10'), ...rules });
      sim.deliver(openOrder([{ amount: funded }]));
      sim.deliver(payment(funded));
      const refund = decided(
        sim.deliver(
          command({ type: 'REFUND_REQUESTED', ...ids, amount: refunded, reason: 'REQUESTED' }),
        ),
      );
      const published = refund.outcomes.find((o) => o.type === 'FUNDS_REFUNDED')!.fields;
      expect({ fee: published.pendingFee, net: published.pendingEarnings }).toEqual({ fee, net });
      const released = decided(
        sim.deliver(
          command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' }),
        ),
      );
      const payout = released.outcomes.find((o) => o.type === 'PAYOUT_REQUESTED')!.fields;
      expect({ fee: payout.feeAmount, net: payout.netAmount }).toEqual({
        fee: published.pendingFee,
        net: published.pendingEarnings,
      });
      expect(sim.brokenInvariants()).toEqual([]);
    },
  );

  test('refunding more than is held is OVER_REFUND and changes nothing', () => {
    const sim = fundedMilestone();
    const decision = decided(
      sim.deliver(command({ type: 'REFUND_REQUESTED', ...ids, amount: '1000.01', reason: 'x' })),
    );
    expect(decision).toMatchObject({ status: 'REJECTED', reason: 'OVER_REFUND', transactions: [] });
    expect(sim.milestones.get('m-1')!.version).toBe(2);
  });

  test.each([
    ['10.001', 'AMOUNT_PRECISION'],
    ['0.00', 'INVALID_AMOUNT'],
    ['-5.00', 'INVALID_AMOUNT'],
    ['ten', 'INVALID_AMOUNT'],
  ])('a refund of %s is rejected with %s', (amount, reason) => {
    const sim = fundedMilestone();
    const decision = decided(
      sim.deliver(command({ type: 'REFUND_REQUESTED', ...ids, amount, reason: 'x' })),
    );
    expect(decision).toMatchObject({ status: 'REJECTED', reason });
    expect(decision.message).toContain('amount');
  });

  test('refunding everything held leaves the milestone REFUNDED', () => {
    const sim = fundedMilestone();
    sim.deliver(
      command({ type: 'REFUND_REQUESTED', ...ids, amount: '1000.00', reason: 'REQUESTED' }),
    );
    expect(sim.milestones.get('m-1')!.state).toBe('REFUNDED');
    expect(sim.brokenInvariants()).toEqual([]);
  });
});

describe('cancellations', () => {
  test('a cancelled milestone refunds everything held, then refuses commands and refunds new payments', () => {
    const sim = fundedMilestone();
    const decision = decided(sim.deliver(command({ type: 'MILESTONE_CANCELLED', ...ids })));
    expect(outcomeTypes(decision)).toEqual(['REFUND_REQUESTED', 'MILESTONE_CANCELLED']);
    expect(decision.outcomes[0]!.fields).toMatchObject({ reason: 'CANCELLED', amount: '1000.00' });
    expect(sim.milestones.get('m-1')!.state).toBe('CANCELLED');
    const reached = decided(
      sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' })),
    );
    expect(reached).toMatchObject({ status: 'REJECTED', reason: 'INVALID_STATE' });
    const late = decided(sim.deliver(payment('10.00')));
    expect(late.outcomes.map((o) => o.fields.reason)).toEqual(['OVERPAYMENT']);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('an order cancellation cancels every milestone not yet released', () => {
    const sim = fundedMilestone();
    sim.deliver(payment('1000.00', { milestoneId: 'm-2' }));
    sim.deliver(
      command({
        type: 'MILESTONE_REACHED',
        orderId: 'order-1',
        milestoneId: 'm-2',
        condition: 'DELIVERY_CONFIRMED',
      }),
    );
    sim.deliver(command({ type: 'ORDER_CANCELLED', orderId: 'order-1' }));
    expect(sim.order!.state).toBe('CANCELLED');
    expect(sim.milestones.get('m-1')!.state).toBe('CANCELLED');
    expect(sim.milestones.get('m-2')!.state).toBe('RELEASED');
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(100000n);
    expect(sim.brokenInvariants()).toEqual([]);
  });
});

describe('disputes', () => {
  test('an open dispute freezes the funds and the clock; withdrawn, the clock resumes with the time left', () => {
    const sim = fundedMilestone(3600);
    sim.deliver(command({ type: 'MILESTONE_REACHED', ...ids, condition: 'DELIVERY_CONFIRMED' }));
    sim.now = new Date(start.getTime() + 600_000);
    const opened = decided(
      sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' })),
    );
    expect(outcomeTypes(opened)).toEqual(['DISPUTE_OPENED']);
    expect(sim.balance('ESCROW_HOLD:USD:order-1:m-1')).toBe(0n);
    expect(sim.balance('DISPUTED_FUNDS:USD:order-1:m-1')).toBe(100000n);
    expect(sim.milestones.get('m-1')).toMatchObject({
      state: 'DISPUTED',
      inspectionDeadline: null,
      inspectionRemainingMs: 3000_000,
    });

    sim.now = new Date(start.getTime() + 7200_000);
    expect(decided(sim.deliver(command({ type: 'INSPECTION_ELAPSED', ...ids }))).status).toBe(
      'UNCHANGED',
    );
    expect(
      decided(
        sim.deliver(command({ type: 'REFUND_REQUESTED', ...ids, amount: '1.00', reason: 'x' })),
      ),
    ).toMatchObject({
      reason: 'INVALID_STATE',
    });

    sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-1' }));
    expect(sim.milestones.get('m-1')!.inspectionDeadline).toEqual(
      new Date(start.getTime() + 7200_000 + 3000_000),
    );
    expect(sim.balance('ESCROW_HOLD:USD:order-1:m-1')).toBe(100000n);
    sim.now = new Date(start.getTime() + 10200_000);
    const due = decided(sim.deliver(command({ type: 'INSPECTION_ELAPSED', ...ids })));
    expect(outcomeTypes(due)).toEqual(['MILESTONE_RELEASED', 'PAYOUT_REQUESTED']);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('resolved by a split: fee on the provider part, the dispute fee per policy, the rest refunded', () => {
    const policy = { ...defaultFeePolicy('0.10'), disputeFees: { USD: '15.00' } };
    const sim = new EscrowSimulator(start, policy);
    sim.deliver(openOrder());
    sim.deliver(payment('1000.00'));
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    const resolved = decided(
      sim.deliver(
        command({
          type: 'DISPUTE_RESOLVED',
          ...ids,
          disputeId: 'd-1',
          resolution: { providerAmount: '600.00', buyerAmount: '400.00' },
        }),
      ),
    );
    expect(outcomeTypes(resolved)).toEqual([
      'DISPUTE_RESOLVED',
      'PAYOUT_REQUESTED',
      'REFUND_REQUESTED',
    ]);
    expect(resolved.outcomes[1]!.fields).toMatchObject({
      grossAmount: '600.00',
      feeAmount: '75.00',
      netAmount: '525.00',
    });
    expect(resolved.outcomes[2]!.fields).toMatchObject({ reason: 'DISPUTE', amount: '400.00' });
    const m = sim.milestones.get('m-1')!;
    expect([
      m.state,
      formatAmount(m.released),
      formatAmount(m.fees),
      formatAmount(m.refunded),
    ]).toEqual(['RELEASED', '600.00', '75.00', '400.00']);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a resolution that does not sum to the disputed amount is INVALID_AMOUNT', () => {
    const sim = fundedMilestone();
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    const decision = decided(
      sim.deliver(
        command({
          type: 'DISPUTE_RESOLVED',
          ...ids,
          disputeId: 'd-1',
          resolution: { providerAmount: '600.00', buyerAmount: '300.00' },
        }),
      ),
    );
    expect(decision).toMatchObject({ status: 'REJECTED', reason: 'INVALID_AMOUNT' });
    expect(decision.message).toContain('does not sum to the 1000.00 disputed');
  });

  test('withdrawing or resolving a dispute that is not the open one is INVALID_STATE', () => {
    const sim = fundedMilestone();
    expect(
      decided(sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-9' }))),
    ).toMatchObject({ reason: 'INVALID_STATE' });
    sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-1' }));
    expect(
      decided(sim.deliver(command({ type: 'DISPUTE_OPENED', ...ids, disputeId: 'd-2' }))),
    ).toMatchObject({ reason: 'INVALID_STATE' });
    expect(
      decided(sim.deliver(command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId: 'd-2' }))),
    ).toMatchObject({ reason: 'INVALID_STATE' });
  });
});

describe('guards shared by every milestone command', () => {
  test('a stale expectedVersion is CONFLICT and changes nothing; the right one applies', () => {
    const sim = fundedMilestone();
    const stale = decided(
      sim.deliver(
        command({
          type: 'REFUND_REQUESTED',
          ...ids,
          amount: '100.00',
          reason: 'x',
          expectedVersion: 1,
        }),
      ),
    );
    expect(stale).toMatchObject({
      status: 'REJECTED',
      reason: 'CONFLICT',
      transactions: [],
      milestones: [],
    });
    expect(stale.outcomes[0]).toMatchObject({ type: 'EVENT_REJECTED', milestoneVersion: 2 });
    const current = decided(
      sim.deliver(
        command({
          type: 'REFUND_REQUESTED',
          ...ids,
          amount: '100.00',
          reason: 'x',
          expectedVersion: 2,
        }),
      ),
    );
    expect(current.status).toBe('APPLIED');
  });

  test('an unknown milestone is UNKNOWN_MILESTONE; a command for an unknown order is kept', () => {
    const sim = fundedMilestone();
    expect(
      decided(
        sim.deliver(
          command({ type: 'MILESTONE_CANCELLED', orderId: 'order-1', milestoneId: 'm-9' }),
        ),
      ),
    ).toMatchObject({
      reason: 'UNKNOWN_MILESTONE',
    });
    const other = new EscrowSimulator(start);
    expect(decided(other.deliver(command({ type: 'MILESTONE_CANCELLED', ...ids }))).status).toBe(
      'KEPT',
    );
  });

  test('amounts in an order must fit the currency: "5.5" JPY is AMOUNT_PRECISION, "XYZ" UNKNOWN_CURRENCY', () => {
    const sim = simulator();
    expect(decided(sim.deliver(openOrder([{ amount: '5.5' }], { currency: 'JPY' })))).toMatchObject(
      {
        reason: 'AMOUNT_PRECISION',
      },
    );
    expect(decided(sim.deliver(openOrder([{}], { currency: 'XYZ' })))).toMatchObject({
      reason: 'UNKNOWN_CURRENCY',
    });
    expect(decided(sim.deliver(openOrder([{}, { milestoneId: 'm-1' }])))).toMatchObject({
      reason: 'INVALID_ORDER',
    });
    expect(sim.order).toBeNull();
  });
});
