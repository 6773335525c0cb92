/**
 * Chargebacks and their reversals (CONTRACT.md, escrow.settlements.v1):
 * what a refused one tells the operator (the settlement, the payment, the
 * amounts and the fix), what the ledger records (the gateway and reference
 * the money moved under), that money a reversal cannot give back to its
 * milestone is refunded naming the payment, and that one payment is charged
 * back once and reversed once, even when the domain is asked directly.
 */
import {
  type Decision,
  type DecisionContext,
  decide,
  paymentKey,
  type Settle,
} from '../../../src/domain/escrow';
import { defaultFeePolicy } from '../../../src/domain/fees';
import { zero } from '../../../src/domain/money';
import {
  command,
  decided,
  openOrder,
  outcomeTypes,
  payment,
  simulator,
  start,
} from '../escrow/fixtures';

function settlement(fields: Partial<Settle> & Pick<Settle, 'type' | 'gatewayReference'>): Settle {
  return command({
    orderId: 'order-1',
    milestoneId: 'm-1',
    outcomeId: null,
    gateway: 'stripe',
    amount: '0.00',
    currency: 'USD',
    reason: null,
    ...fields,
  }) as Settle;
}

/** A 1000.00 milestone funded by one payment (reference "ch-fund"), held. */
function held() {
  const sim = simulator();
  sim.deliver(openOrder());
  sim.deliver(payment('1000.00', { gatewayReference: 'ch-fund' }));
  return sim;
}

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

describe('a chargeback refused', () => {
  test('for more than the payment is SETTLEMENT_MISMATCH naming both amounts: at most the payment', () => {
    const sim = held();
    const cb = settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '1000.01' });
    expect(rejection(decided(sim.deliver(cb)))).toEqual({
      reason: 'SETTLEMENT_MISMATCH',
      message:
        'CHARGEBACK stripe/ch-fund is for 1000.01 USD, more than or not in the currency of the ' +
        '1000.00 USD payment it names; a chargeback pulls back at most the payment',
    });
  });

  test('naming a payment of another order is SETTLEMENT_MISMATCH: send the payment’s own orderId', () => {
    const sim = held();
    sim.deliver(openOrder([{ milestoneId: 'n-1' }], { orderId: 'order-2' }));
    const cb = settlement({
      type: 'CHARGEBACK',
      orderId: 'order-2',
      milestoneId: 'n-1',
      gatewayReference: 'ch-fund',
      amount: '10.00',
    });
    expect(rejection(decided(sim.deliver(cb)))).toEqual({
      reason: 'SETTLEMENT_MISMATCH',
      message:
        'CHARGEBACK stripe/ch-fund names payment stripe/ch-fund of order order-1, not of order ' +
        "order-2; send the payment's own orderId",
    });
    expect(sim.milestones.get('m-1')!.held.minor).toBe(100000n);
  });

  test('with too many decimals is AMOUNT_PRECISION naming the amount field', () => {
    const sim = held();
    const cb = settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '10.001' });
    const refused = rejection(decided(sim.deliver(cb)));
    expect(refused.reason).toBe('AMOUNT_PRECISION');
    expect(refused.message).toMatch(/^amount: amount "10\.001" has 3 fractional /);
  });
});

describe('a reversal refused', () => {
  test('of a payment with no chargeback is INVALID_STATE: only a chargeback that stands', () => {
    const sim = held();
    const reversal = settlement({
      type: 'CHARGEBACK_REVERSED',
      gatewayReference: 'ch-fund',
      amount: '100.00',
    });
    expect(rejection(decided(sim.deliver(reversal)))).toEqual({
      reason: 'INVALID_STATE',
      message:
        'CHARGEBACK_REVERSED stripe/ch-fund: payment ch-fund has no chargeback to reverse; send ' +
        'CHARGEBACK_REVERSED only for a chargeback that stands',
    });
  });

  test.each([
    ['another amount', '300.00', 'USD', 'is for 300.00 USD'],
    ['another currency', '400.00', 'EUR', 'is for 400.00 EUR'],
  ])(
    'for %s is SETTLEMENT_MISMATCH: a reversal returns the whole chargeback',
    (_, amount, currency, told) => {
      const sim = held();
      sim.deliver(
        settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '400.00' }),
      );
      const reversal = settlement({
        type: 'CHARGEBACK_REVERSED',
        gatewayReference: 'ch-fund',
        amount,
        currency,
      });
      expect(rejection(decided(sim.deliver(reversal)))).toEqual({
        reason: 'SETTLEMENT_MISMATCH',
        message:
          `CHARGEBACK_REVERSED stripe/ch-fund ${told}, but the chargeback was 400.00 USD; ` +
          'a reversal returns the whole chargeback',
      });
      expect(sim.milestones.get('m-1')!.held.minor).toBe(60000n);
    },
  );
});

describe('the ledger and the refund', () => {
  test('the chargeback and its reversal record the gateway and reference they moved under', () => {
    const sim = held();
    const applied = decided(
      sim.deliver(
        settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '400.00' }),
      ),
    );
    expect(applied.transactions).toEqual([
      expect.objectContaining({
        kind: 'CHARGEBACK',
        memo: { gateway: 'stripe', gatewayReference: 'ch-fund' },
      }),
    ]);
    const reversed = decided(
      sim.deliver(
        settlement({ type: 'CHARGEBACK_REVERSED', gatewayReference: 'ch-fund', amount: '400.00' }),
      ),
    );
    expect(reversed.transactions).toEqual([
      expect.objectContaining({
        kind: 'CHARGEBACK_REVERSAL',
        memo: { gateway: 'stripe', gatewayReference: 'ch-fund' },
      }),
    ]);
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a reversal on a cancelled milestone refunds the buyer, naming the payment charged back', () => {
    const sim = held();
    sim.deliver(settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '400.00' }));
    sim.deliver(command({ type: 'MILESTONE_CANCELLED', orderId: 'order-1', milestoneId: 'm-1' }));
    const reversed = decided(
      sim.deliver(
        settlement({ type: 'CHARGEBACK_REVERSED', gatewayReference: 'ch-fund', amount: '400.00' }),
      ),
    );
    expect(outcomeTypes(reversed)).toEqual(['CHARGEBACK_REVERSED', 'REFUND_REQUESTED']);
    expect(reversed.outcomes[0]!.fields).toMatchObject({
      returnedToMilestone: '0.00',
      refundedToBuyer: '400.00',
    });
    expect(reversed.outcomes[1]!.fields).toMatchObject({
      buyerId: 'buyer-1',
      amount: '400.00',
      reason: 'OVERPAYMENT',
      gatewayReferences: ['ch-fund'],
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });
});

describe('one chargeback per payment, one reversal per chargeback, in the domain itself', () => {
  /** The context the pipeline would give a settlement of order-1 after `sim`'s deliveries. */
  function contextAfter(sim: ReturnType<typeof held>): DecisionContext {
    const key = paymentKey('stripe', 'ch-fund');
    const order = sim.order!;
    return {
      now: start,
      order,
      milestones: [...sim.milestones.values()],
      feePolicy: defaultFeePolicy('0.10'),
      providerVolume: zero('USD'),
      fundingReferences: { 'm-1': ['ch-fund'] },
      payments: new Map([
        [
          key,
          {
            gateway: 'stripe',
            gatewayReference: 'ch-fund',
            orderId: 'order-1',
            milestoneId: 'm-1',
            amount: { currency: 'USD', minor: 100000n },
            applied: { currency: 'USD', minor: 100000n },
          },
        ],
      ]),
      chargebacks: new Map([[key, sim.chargeback(key)!]]),
    };
  }

  test('a second chargeback of a payment is INVALID_STATE: charged back already', () => {
    const sim = held();
    sim.deliver(settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '400.00' }));
    const again = settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '100.00' });
    expect(rejection(decide(again, contextAfter(sim)))).toEqual({
      reason: 'INVALID_STATE',
      message:
        'CHARGEBACK stripe/ch-fund: payment ch-fund was charged back already; one chargeback per payment',
    });
  });

  test('a second reversal is INVALID_STATE: the chargeback is reversed already', () => {
    const sim = held();
    sim.deliver(settlement({ type: 'CHARGEBACK', gatewayReference: 'ch-fund', amount: '400.00' }));
    sim.deliver(
      settlement({ type: 'CHARGEBACK_REVERSED', gatewayReference: 'ch-fund', amount: '400.00' }),
    );
    const again = settlement({
      type: 'CHARGEBACK_REVERSED',
      gatewayReference: 'ch-fund',
      amount: '400.00',
    });
    const refused = rejection(decide(again, contextAfter(sim)));
    expect(refused.reason).toBe('INVALID_STATE');
    expect(refused.message).toMatch(
      /^CHARGEBACK_REVERSED stripe\/ch-fund: payment ch-fund has a chargeback reversed already .*send CHARGEBACK_REVERSED only for a chargeback that stands$/,
    );
  });
});
