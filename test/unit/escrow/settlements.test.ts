/**
 * Settlements through the pipeline's plan (CONTRACT.md, escrow.settlements.v1):
 * payouts and refunds paid or failed, each settled at most once and only for
 * the exact amount asked; chargebacks taken from hold, disputed funds and
 * releases (fee reversed, the provider's net a receivable that later
 * releases net), and reversed by new transactions. Balances are checked in
 * minor units against figures worked by hand.
 */
import type { Settle } from '../../../src/domain/escrow';
import { paymentKey } from '../../../src/domain/escrow';
import { command, decided, openOrder, outcomeTypes, payment, simulator } from './fixtures';

const reach = (milestoneId = 'm-1', orderId = 'order-1') =>
  command({ type: 'MILESTONE_REACHED', orderId, milestoneId, condition: 'DELIVERY_CONFIRMED' });

function settlement(fields: Partial<Settle> & Pick<Settle, 'type'>): Settle {
  return command({
    orderId: 'order-1',
    milestoneId: 'm-1',
    outcomeId: null,
    gateway: 'stripe',
    gatewayReference: `st-${Math.random().toString(36).slice(2)}`,
    amount: '0.00',
    currency: 'USD',
    reason: null,
    ...fields,
  }) as Settle;
}

/** A 1000.00 milestone funded and released at 10 %: payable 900.00, revenue 100.00. */
function released() {
  const sim = simulator();
  sim.deliver(openOrder());
  const funding = payment('1000.00');
  sim.deliver(funding);
  sim.deliver(reach());
  const payout = sim.requested.find((r) => r.outcome.type === 'PAYOUT_REQUESTED')!;
  return { sim, funding, payoutId: payout.outcomeId };
}

const rejection = (result: ReturnType<ReturnType<typeof simulator>['deliver']>) => {
  const decision = decided(result);
  return { status: decision.status, reason: decision.reason, message: decision.message };
};

describe('payouts and refunds settled', () => {
  test('PAYOUT_PAID moves the net from the provider payable to gateway clearing, once', () => {
    const { sim, payoutId } = released();
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(90000n);
    const paid = decided(
      sim.deliver(settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900.00' })),
    );
    expect(paid.status).toBe('APPLIED');
    expect(outcomeTypes(paid)).toEqual(['PAYOUT_SETTLED']);
    expect(paid.transactions.map((t) => t.kind)).toEqual(['PAYOUT_SETTLEMENT']);
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(0n);
    // Received 1000.00 (−100000), paid out 900.00: clearing is −(received − paid out).
    expect(sim.balance('GATEWAY_CLEARING:USD')).toBe(-10000n);
    expect(sim.disbursement(payoutId)!.state).toBe('PAID');
    // Paid twice (another transfer reference): refused, nothing moves.
    const again = sim.deliver(
      settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900.00' }),
    );
    expect(rejection(again)).toMatchObject({ status: 'REJECTED', reason: 'INVALID_STATE' });
    expect(rejection(again).message).toContain('is PAID already');
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('an amount or currency other than the net is SETTLEMENT_MISMATCH and moves nothing', () => {
    const { sim, payoutId } = released();
    for (const [amount, currency] of [
      ['899.99', 'USD'],
      ['900.01', 'USD'],
      ['900.00', 'EUR'],
    ] as const) {
      const result = rejection(
        sim.deliver(settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount, currency })),
      );
      expect(result).toMatchObject({ status: 'REJECTED', reason: 'SETTLEMENT_MISMATCH' });
      expect(result.message).toContain('asked for 900.00 USD');
    }
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(90000n);
    expect(sim.disbursement(payoutId)!.state).toBe('REQUESTED');
    // "900" is the same amount as "900.00".
    expect(
      decided(sim.deliver(settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900' })))
        .status,
    ).toBe('APPLIED');
  });

  test('PAYOUT_FAILED moves nothing, marks the payout failed, and a later PAID is refused', () => {
    const { sim, payoutId } = released();
    const failed = decided(
      sim.deliver(
        settlement({
          type: 'PAYOUT_FAILED',
          outcomeId: payoutId,
          amount: '900.00',
          reason: 'ACCOUNT_CLOSED',
        }),
      ),
    );
    expect(failed.transactions).toEqual([]);
    expect(outcomeTypes(failed)).toEqual(['PAYOUT_FAILED']);
    expect(failed.outcomes[0]!.fields).toMatchObject({ failureReason: 'ACCOUNT_CLOSED' });
    expect(sim.disbursement(payoutId)!.state).toBe('FAILED');
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(90000n);
    const late = rejection(
      sim.deliver(settlement({ type: 'PAYOUT_PAID', outcomeId: payoutId, amount: '900.00' })),
    );
    expect(late).toMatchObject({ reason: 'INVALID_STATE' });
    expect(late.message).toContain('payouts retry');
  });

  test('REFUND_PAID settles the buyer refund payable; a payout settlement naming a refund is refused', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    sim.deliver(payment('1200.00'));
    const refund = sim.requested.find((r) => r.outcome.type === 'REFUND_REQUESTED')!;
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(20000n);
    expect(
      rejection(
        sim.deliver(
          settlement({ type: 'PAYOUT_PAID', outcomeId: refund.outcomeId, amount: '200.00' }),
        ),
      ),
    ).toMatchObject({ reason: 'SETTLEMENT_MISMATCH' });
    const paid = decided(
      sim.deliver(
        settlement({ type: 'REFUND_PAID', outcomeId: refund.outcomeId, amount: '200.00' }),
      ),
    );
    expect(outcomeTypes(paid)).toEqual(['REFUND_SETTLED']);
    expect(sim.balance('BUYER_REFUND_PAYABLE:USD:buyer-1')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a settlement for an outcome not known is kept, and one for an order not known waits for it', () => {
    const { sim } = released();
    const unknown = decided(
      sim.deliver(
        settlement({
          type: 'PAYOUT_PAID',
          outcomeId: '00000000-0000-4000-8000-000000000000',
          amount: '900.00',
        }),
      ),
    );
    expect(unknown).toMatchObject({
      status: 'KEPT',
      awaiting: 'outcome:00000000-0000-4000-8000-000000000000',
    });
    const early = decided(
      sim.deliver(
        settlement({ type: 'PAYOUT_PAID', orderId: 'order-9', outcomeId: 'x', amount: '1.00' }),
      ),
    );
    expect(early.status).toBe('KEPT');
    expect(early.awaiting).toBeUndefined();
  });
});

describe('chargebacks', () => {
  test('on held money: the hold shrinks, the milestone needs funding again, a new version', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    const funding = payment('1000.00');
    sim.deliver(funding);
    const before = sim.milestones.get('m-1')!;
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: funding.gatewayReference,
          amount: '400.00',
        }),
      ),
    );
    expect(outcomeTypes(applied)).toEqual(['CHARGEBACK_APPLIED']);
    const after = sim.milestones.get('m-1')!;
    expect(after).toMatchObject({ state: 'PARTIALLY_FUNDED', version: before.version + 1 });
    expect([after.held.minor, after.funded.minor]).toEqual([60000n, 60000n]);
    expect(applied.outcomes[0]!.fields).toMatchObject({
      fromHeld: '400.00',
      fromDisputed: '0.00',
      feeReversed: '0.00',
      receivable: '0.00',
      fromPlatform: '0.00',
    });
    expect(sim.balance('GATEWAY_CLEARING:USD')).toBe(-60000n);
    // Funded again, it releases as any milestone.
    sim.deliver(payment('400.00'));
    sim.deliver(reach());
    expect(sim.milestones.get('m-1')!.state).toBe('RELEASED');
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('after release: fee reversed, net a receivable, netted by the next releases of any order', () => {
    const { sim, funding } = released();
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: funding.gatewayReference,
          amount: '1000.00',
        }),
      ),
    );
    expect(applied.outcomes[0]!.fields).toMatchObject({
      fromHeld: '0.00',
      feeReversed: '100.00',
      receivable: '900.00',
    });
    expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(0n);
    expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(-90000n);
    // A 500.00 release of another order: net 450.00, all of it recovered, no payout asked.
    sim.deliver(openOrder([{ amount: '500.00', milestoneId: 'n-1' }], { orderId: 'order-2' }));
    sim.deliver(payment('500.00', { orderId: 'order-2', milestoneId: 'n-1' }));
    const small = decided(sim.deliver(reach('n-1', 'order-2')));
    expect(outcomeTypes(small)).toEqual(['MILESTONE_REACHED', 'MILESTONE_RELEASED']);
    expect(small.outcomes[1]!.fields).toMatchObject({
      netAmount: '450.00',
      recoveredAmount: '450.00',
    });
    expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(-45000n);
    // A 1000.00 release: net 900.00, 450.00 recovered, 450.00 paid.
    sim.deliver(openOrder([{ amount: '1000.00', milestoneId: 'p-1' }], { orderId: 'order-3' }));
    sim.deliver(payment('1000.00', { orderId: 'order-3', milestoneId: 'p-1' }));
    const large = decided(sim.deliver(reach('p-1', 'order-3')));
    const payout = large.outcomes.find((o) => o.type === 'PAYOUT_REQUESTED')!;
    expect(payout.fields).toMatchObject({
      grossAmount: '1000.00',
      feeAmount: '100.00',
      recoveredAmount: '450.00',
      netAmount: '450.00',
    });
    expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(0n);
    expect(sim.chargeback(paymentKey('stripe', funding.gatewayReference))!.recovered.minor).toBe(
      90000n,
    );
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a reversal undoes every effect, paying back what releases recovered', () => {
    const { sim, funding } = released();
    sim.deliver(
      settlement({
        type: 'CHARGEBACK',
        gatewayReference: funding.gatewayReference,
        amount: '1000.00',
      }),
    );
    sim.deliver(openOrder([{ amount: '500.00', milestoneId: 'n-1' }], { orderId: 'order-2' }));
    sim.deliver(payment('500.00', { orderId: 'order-2', milestoneId: 'n-1' }));
    sim.deliver(reach('n-1', 'order-2'));
    const reversed = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK_REVERSED',
          gatewayReference: funding.gatewayReference,
          amount: '1000.00',
        }),
      ),
    );
    expect(outcomeTypes(reversed)).toEqual(['CHARGEBACK_REVERSED', 'PAYOUT_REQUESTED']);
    expect(reversed.outcomes[0]!.fields).toMatchObject({
      repaidToProvider: '450.00',
      receivableCancelled: '450.00',
    });
    expect(reversed.outcomes[1]!.fields).toMatchObject({ netAmount: '450.00', feeAmount: '0.00' });
    expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(0n);
    // Revenue: 100.00 of order-1 back, and 50.00 of order-2.
    expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(15000n);
    // The provider is owed 900.00 (order-1, unpaid) + 450.00 repaid (order-2's net).
    expect(sim.balance('PROVIDER_PAYABLE:USD:provider-1')).toBe(135000n);
    const again = sim.deliver(
      settlement({
        type: 'CHARGEBACK_REVERSED',
        gatewayReference: funding.gatewayReference,
        amount: '1000.00',
      }),
    );
    // The same (gateway, reference, type) again is a duplicate, whatever its eventId.
    expect(again).toBe('DUPLICATE');
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('on disputed funds, and a reversal returns them to the dispute', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    const funding = payment('1000.00');
    sim.deliver(funding);
    sim.deliver(
      command({ type: 'DISPUTE_OPENED', orderId: 'order-1', milestoneId: 'm-1', disputeId: 'd-1' }),
    );
    sim.deliver(
      settlement({
        type: 'CHARGEBACK',
        gatewayReference: funding.gatewayReference,
        amount: '300.00',
      }),
    );
    expect(sim.milestones.get('m-1')!.disputed.minor).toBe(70000n);
    expect(sim.milestones.get('m-1')!.state).toBe('DISPUTED');
    sim.deliver(
      settlement({
        type: 'CHARGEBACK_REVERSED',
        gatewayReference: funding.gatewayReference,
        amount: '300.00',
      }),
    );
    expect(sim.milestones.get('m-1')!.disputed.minor).toBe(100000n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('more than the payment, another currency, or a reversal of nothing are refused', () => {
    // Each on an order of its own: one (gateway, reference, type) with another amount would
    // be an idempotency conflict, not a second look at the rule.
    for (const [type, amount, currency, reason] of [
      ['CHARGEBACK', '1000.01', 'USD', 'SETTLEMENT_MISMATCH'],
      ['CHARGEBACK', '10.00', 'EUR', 'SETTLEMENT_MISMATCH'],
      ['CHARGEBACK_REVERSED', '10.00', 'USD', 'INVALID_STATE'],
    ] as const) {
      const { sim, funding } = released();
      const result = rejection(
        sim.deliver(
          settlement({ type, gatewayReference: funding.gatewayReference, amount, currency }),
        ),
      );
      expect(result).toMatchObject({ status: 'REJECTED', reason });
      expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(0n);
      expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(10000n);
    }
  });

  test('a chargeback before its payment is kept, and applied when the payment arrives', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    const funding = payment('1000.00');
    const early = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: funding.gatewayReference,
          amount: '1000.00',
        }),
      ),
    );
    expect(early).toMatchObject({
      status: 'KEPT',
      awaiting: paymentKey('stripe', funding.gatewayReference),
    });
    sim.deliver(funding);
    // The payment funded the milestone, then the chargeback replayed took it all back.
    const milestone = sim.milestones.get('m-1')!;
    expect([milestone.state, milestone.held.minor, milestone.funded.minor]).toEqual([
      'PENDING_FUNDING',
      0n,
      0n,
    ]);
    expect(sim.decisions.at(-1)!.outcomes.map((o) => o.type)).toEqual(['CHARGEBACK_APPLIED']);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a chargeback of a service fee comes from revenue', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    const fee = payment('25.00', { kind: 'SERVICE_FEE', milestoneId: null });
    sim.deliver(fee);
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          milestoneId: null,
          gatewayReference: fee.gatewayReference,
          amount: '25.00',
        }),
      ),
    );
    expect(applied.outcomes[0]!.fields).toMatchObject({ fromPlatform: '25.00' });
    expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a chargeback of a payment refunded at once as an overpayment takes nothing from the released milestone', () => {
    const { sim } = released();
    // 1000.00 released; a second 100.00 payment is more than the milestone needs: refunded at once.
    const extra = payment('100.00');
    sim.deliver(extra);
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: extra.gatewayReference,
          amount: '100.00',
        }),
      ),
    );
    expect(applied.outcomes[0]!.fields).toMatchObject({
      feeReversed: '0.00',
      receivable: '0.00',
      fromPlatform: '100.00',
    });
    expect(sim.balance('PROVIDER_RECEIVABLE:USD:provider-1')).toBe(0n);
    expect(sim.balance('PLATFORM_REVENUE:USD')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a chargeback of a payment partly refunded at once takes back from the milestone only what reached it', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    sim.deliver(payment('900.00'));
    // 150.00 for the 100.00 still needed: 100.00 applied, 50.00 refunded at once.
    const topUp = payment('150.00');
    sim.deliver(topUp);
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: topUp.gatewayReference,
          amount: '150.00',
        }),
      ),
    );
    expect(applied.outcomes[0]!.fields).toMatchObject({
      fromHeld: '100.00',
      fromPlatform: '50.00',
    });
    expect(sim.balance('ESCROW_HOLD:USD:order-1:m-1')).toBe(90000n);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a chargeback of a payment refunded for its currency comes from the platform, in that currency', () => {
    const sim = simulator();
    sim.deliver(openOrder());
    // A EUR payment on a USD order: refunded at once (CURRENCY_MISMATCH), never in the milestone.
    const euros = payment('50.00', { currency: 'EUR' });
    sim.deliver(euros);
    const applied = decided(
      sim.deliver(
        settlement({
          type: 'CHARGEBACK',
          gatewayReference: euros.gatewayReference,
          amount: '50.00',
          currency: 'EUR',
        }),
      ),
    );
    expect(applied.status).toBe('APPLIED');
    expect(applied.outcomes[0]!.fields).toMatchObject({
      chargebackAmount: '50.00',
      fromHeld: '0.00',
      fromDisputed: '0.00',
      feeReversed: '0.00',
      receivable: '0.00',
      fromPlatform: '50.00',
    });
    expect(sim.balance('GATEWAY_CLEARING:EUR')).toBe(0n);
    expect(sim.balance('PLATFORM_REVENUE:EUR')).toBe(-5000n);
    expect(sim.balance('ESCROW_HOLD:USD:order-1:m-1')).toBe(0n);
    expect(sim.brokenInvariants()).toEqual([]);
  });
});
