/**
 * Payouts and refunds settled (CONTRACT.md, escrow.settlements.v1): what a
 * refused settlement tells the operator (the settlement, the outcome, what it
 * is, what was asked and how to fix it: the retry command for a failed
 * request), and what an applied one records (the ledger memo, the settled
 * request, the published figures).
 */
import type { Decision, Settle } from '../../../src/domain/escrow';
import { command, decided, openOrder, outcomeTypes, payment, simulator } from '../escrow/fixtures';

const reach = () =>
  command({
    type: 'MILESTONE_REACHED',
    orderId: 'order-1',
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
  });

let references = 0;
function settlement(fields: Partial<Settle> & Pick<Settle, 'type'>): Settle {
  return command({
    orderId: 'order-1',
    milestoneId: 'm-1',
    outcomeId: null,
    gateway: 'stripe',
    gatewayReference: `tr-${++references}`,
    amount: '0.00',
    currency: 'USD',
    reason: null,
    ...fields,
  }) as Settle;
}

/**
 * A 1000.00 milestone released at 10 % (payout of 900.00) beside a 500.00 one
 * refunded 200.00: one PAYOUT_REQUESTED and one REFUND_REQUESTED to settle.
 */
function requested() {
  const sim = simulator();
  sim.deliver(openOrder([{}, { amount: '500.00' }]));
  sim.deliver(payment('1000.00'));
  sim.deliver(payment('500.00', { milestoneId: 'm-2' }));
  sim.deliver(reach());
  sim.deliver(
    command({
      type: 'REFUND_REQUESTED',
      orderId: 'order-1',
      milestoneId: 'm-2',
      amount: '200.00',
      reason: 'REQUESTED',
    }),
  );
  const id = (type: string) => sim.requested.find((r) => r.outcome.type === type)!.outcomeId;
  return { sim, payoutId: id('PAYOUT_REQUESTED'), refundId: id('REFUND_REQUESTED') };
}

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

describe('a settlement refused', () => {
  test('naming a request of the other kind is SETTLEMENT_MISMATCH: what the outcome is, what to send', () => {
    const { sim, refundId } = requested();
    const paid = settlement({
      type: 'PAYOUT_PAID',
      outcomeId: refundId,
      amount: '200.00',
      gatewayReference: 'tr-kind',
    });
    expect(rejection(decided(sim.deliver(paid)))).toEqual({
      reason: 'SETTLEMENT_MISMATCH',
      message:
        `PAYOUT_PAID stripe/tr-kind names outcome ${refundId}, which is a REFUND of order order-1, ` +
        'not a PAYOUT of order order-1; send the outcomeId of the PAYOUT_REQUESTED this settles',
    });
    expect(sim.disbursement(refundId)!.state).toBe('REQUESTED');
  });

  test('naming a request of another order is SETTLEMENT_MISMATCH naming both orders', () => {
    const { sim, payoutId } = requested();
    sim.deliver(openOrder([{ milestoneId: 'n-1' }], { orderId: 'order-2' }));
    const paid = settlement({
      type: 'PAYOUT_PAID',
      orderId: 'order-2',
      milestoneId: 'n-1',
      outcomeId: payoutId,
      amount: '900.00',
      gatewayReference: 'tr-order',
    });
    expect(rejection(decided(sim.deliver(paid)))).toEqual({
      reason: 'SETTLEMENT_MISMATCH',
      message:
        `PAYOUT_PAID stripe/tr-order names outcome ${payoutId}, which is a PAYOUT of order order-1, ` +
        'not a PAYOUT of order order-2; send the outcomeId of the PAYOUT_REQUESTED this settles',
    });
    expect(sim.disbursement(payoutId)!.state).toBe('REQUESTED');
  });

  test('for another amount is SETTLEMENT_MISMATCH with both amounts: nothing moved, settle the exact amount', () => {
    const { sim, payoutId } = requested();
    const paid = settlement({
      type: 'PAYOUT_PAID',
      outcomeId: payoutId,
      amount: '899.99',
      gatewayReference: 'tr-short',
    });
    expect(rejection(decided(sim.deliver(paid)))).toEqual({
      reason: 'SETTLEMENT_MISMATCH',
      message:
        `PAYOUT_PAID stripe/tr-short is for 899.99 USD, but PAYOUT_REQUESTED ${payoutId} asked for ` +
        '900.00 USD; nothing moved. Settle the exact amount requested',
    });
  });

  test('with too many decimals is AMOUNT_PRECISION naming the amount field', () => {
    const { sim, payoutId } = requested();
    const paid = settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900.001' });
    const refused = rejection(decided(sim.deliver(paid)));
    expect(refused.reason).toBe('AMOUNT_PRECISION');
    expect(refused.message).toMatch(/^amount: amount "900\.001" has 3 fractional /);
  });

  test('of a request paid already is INVALID_STATE: settle the request that is open now', () => {
    const { sim, payoutId } = requested();
    sim.deliver(settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900.00' }));
    const again = settlement({
      type: 'PAYOUT_FAILED',
      outcomeId: payoutId,
      amount: '900.00',
      gatewayReference: 'tr-late',
      reason: 'ACCOUNT_CLOSED',
    });
    expect(rejection(decided(sim.deliver(again)))).toEqual({
      reason: 'INVALID_STATE',
      message:
        `PAYOUT_FAILED stripe/tr-late: PAYOUT_REQUESTED ${payoutId} is PAID already; a request is ` +
        'settled once (settle the request that is open now)',
    });
  });

  test.each([
    ['PAYOUT', 'payouts', '900.00'],
    ['REFUND', 'refunds', '200.00'],
  ])(
    'of a %s that failed is INVALID_STATE naming the retry command (escrow-worker %s retry)',
    (kind, command, amount) => {
      const { sim, payoutId, refundId } = requested();
      const outcomeId = kind === 'PAYOUT' ? payoutId : refundId;
      sim.deliver(
        settlement({
          type: `${kind}_FAILED` as Settle['type'],
          outcomeId,
          amount,
          reason: 'ACCOUNT_CLOSED',
        }),
      );
      const paid = settlement({
        type: `${kind}_PAID` as Settle['type'],
        outcomeId,
        amount,
        gatewayReference: 'tr-after-failure',
      });
      expect(rejection(decided(sim.deliver(paid)))).toEqual({
        reason: 'INVALID_STATE',
        message:
          `${kind}_PAID stripe/tr-after-failure: ${kind}_REQUESTED ${outcomeId} is FAILED already; ` +
          `a request is settled once (retry it with escrow-worker ${command} retry, then settle the new request)`,
      });
    },
  );
});

describe('a settlement applied', () => {
  test('PAYOUT_PAID: the ledger memo names the request and the transfer; PAYOUT_SETTLED the figures', () => {
    const { sim, payoutId } = requested();
    const decision = decided(
      sim.deliver(
        settlement({
          type: 'PAYOUT_PAID',
          outcomeId: payoutId,
          amount: '900.00',
          gatewayReference: 'tr-paid',
        }),
      ),
    );
    expect(decision.transactions).toEqual([
      expect.objectContaining({
        kind: 'PAYOUT_SETTLEMENT',
        milestoneId: 'm-1',
        memo: { outcomeId: payoutId, gateway: 'stripe', gatewayReference: 'tr-paid' },
      }),
    ]);
    expect(decision.settlements).toEqual([
      {
        outcomeId: payoutId,
        state: 'PAID',
        reason: null,
        gateway: 'stripe',
        gatewayReference: 'tr-paid',
      },
    ]);
    expect(decision.outcomes).toHaveLength(1);
    expect(decision.outcomes[0]).toMatchObject({
      type: 'PAYOUT_SETTLED',
      milestoneId: 'm-1',
      transactionIndex: 0,
    });
    const fields = decision.outcomes[0]!.fields;
    expect(fields).toMatchObject({
      settledOutcomeId: payoutId,
      partyId: 'provider-1',
      settledAmount: '900.00',
      settledCurrency: 'USD',
      gateway: 'stripe',
      gatewayReference: 'tr-paid',
    });
    expect(fields).not.toHaveProperty('failureReason');
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('REFUND_FAILED: nothing moves, the request is failed with its reason, REFUND_FAILED says why', () => {
    const { sim, refundId } = requested();
    const payable = sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1');
    const decision = decided(
      sim.deliver(
        settlement({
          type: 'REFUND_FAILED',
          milestoneId: 'm-2',
          outcomeId: refundId,
          amount: '200.00',
          gatewayReference: 'tr-failed',
          reason: 'ACCOUNT_CLOSED',
        }),
      ),
    );
    expect(decision.transactions).toEqual([]);
    expect(decision.settlements).toEqual([
      {
        outcomeId: refundId,
        state: 'FAILED',
        reason: 'ACCOUNT_CLOSED',
        gateway: 'stripe',
        gatewayReference: 'tr-failed',
      },
    ]);
    expect(decision.outcomes[0]).toMatchObject({
      type: 'REFUND_FAILED',
      milestoneId: 'm-2',
      transactionIndex: null,
      fields: {
        settledOutcomeId: refundId,
        partyId: 'buyer-1',
        settledAmount: '200.00',
        failureReason: 'ACCOUNT_CLOSED',
      },
    });
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(payable);
    expect(sim.disbursement(refundId)!.state).toBe('FAILED');
  });

  test('a refund of no milestone (an overpayment of a funded one) is settled as an order event', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    sim.deliver(payment('1000.00'));
    sim.deliver(payment('30.00', { gatewayReference: 'ch-extra' }));
    const refund = sim.requested.find((r) => r.outcome.type === 'REFUND_REQUESTED')!;
    expect(refund.outcome).toMatchObject({ milestoneId: null, fields: { reason: 'OVERPAYMENT' } });
    const decision = decided(
      sim.deliver(
        settlement({
          type: 'REFUND_PAID',
          milestoneId: null,
          outcomeId: refund.outcomeId,
          amount: '30.00',
          gatewayReference: 'tr-order-level',
        }),
      ),
    );
    expect(decision.outcomes).toEqual([
      expect.objectContaining({
        type: 'REFUND_SETTLED',
        orderId: 'order-1',
        milestoneId: null,
        fields: expect.objectContaining({
          state: 'OPEN',
          currency: 'USD',
          settledOutcomeId: refund.outcomeId,
          settledAmount: '30.00',
          partyId: 'buyer-1',
        }) as unknown,
      }),
    ]);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('REFUND_PAID: the buyer refund payable goes to gateway clearing', () => {
    const { sim, refundId } = requested();
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(20000n);
    const decision = decided(
      sim.deliver(
        settlement({
          type: 'REFUND_PAID',
          milestoneId: 'm-2',
          outcomeId: refundId,
          amount: '200.00',
        }),
      ),
    );
    expect(decision.transactions.map((t) => t.kind)).toEqual(['REFUND_SETTLEMENT']);
    expect(outcomeTypes(decision)).toEqual(['REFUND_SETTLED']);
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });
});
