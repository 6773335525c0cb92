/**
 * ORDER_OPENED (CONTRACT.md, escrow.orders.v1): the order and its milestones
 * are created in PENDING_FUNDING with the plan's terms, and ORDER_OPENED
 * publishes them; an order that cannot open is refused whole, the message
 * naming the order, the field and the fix.
 */
import type { Decision } from '../../../src/domain/escrow';
import { decided, openOrder, outcomeTypes, simulator } from '../escrow/fixtures';

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.milestones).toEqual([]);
  expect(decision.order).toBeUndefined();
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

test('creates each milestone with its plan, version 1, nothing funded, and publishes the plan', () => {
  const sim = simulator();
  const decision = decided(
    sim.deliver(
      openOrder(
        [
          { amount: '600.00', releaseCondition: 'REPORT_SUBMITTED', inspectionPeriodSeconds: 3600 },
          { milestoneId: 'm-2', sequence: 2, amount: '400', releaseCondition: 'ANY' },
        ],
        { currency: 'EUR', buyerId: 'buyer-7', providerId: 'provider-9' },
      ),
    ),
  );
  expect(decision.order).toEqual({
    orderId: 'order-1',
    buyerId: 'buyer-7',
    providerId: 'provider-9',
    currency: 'EUR',
    state: 'OPEN',
  });
  const zero = { currency: 'EUR', minor: 0n };
  expect(decision.milestones).toEqual([
    {
      orderId: 'order-1',
      milestoneId: 'm-1',
      sequence: 1,
      currency: 'EUR',
      originalAmount: { currency: 'EUR', minor: 60000n },
      amount: { currency: 'EUR', minor: 60000n },
      releaseCondition: 'REPORT_SUBMITTED',
      inspectionPeriodSeconds: 3600,
      state: 'PENDING_FUNDING',
      version: 1,
      funded: zero,
      held: zero,
      disputed: zero,
      released: zero,
      fees: zero,
      refunded: zero,
      reached: false,
      reachedCondition: null,
      finalAmount: null,
      inspectionDeadline: null,
      inspectionRemainingMs: null,
      disputeId: null,
    },
    expect.objectContaining({
      milestoneId: 'm-2',
      sequence: 2,
      amount: { currency: 'EUR', minor: 40000n },
      releaseCondition: 'ANY',
      inspectionPeriodSeconds: 0,
    }),
  ]);
  expect(decision.outcomes).toHaveLength(1);
  expect(decision.outcomes[0]).toMatchObject({
    type: 'ORDER_OPENED',
    orderId: 'order-1',
    milestoneId: null,
    fields: {
      state: 'OPEN',
      currency: 'EUR',
      buyerId: 'buyer-7',
      providerId: 'provider-9',
      milestones: [
        {
          milestoneId: 'm-1',
          sequence: 1,
          amount: '600.00',
          releaseCondition: 'REPORT_SUBMITTED',
          inspectionPeriodSeconds: 3600,
        },
        {
          milestoneId: 'm-2',
          sequence: 2,
          amount: '400.00',
          releaseCondition: 'ANY',
          inspectionPeriodSeconds: 0,
        },
      ],
    },
  });
});

test('an order opened a second time (another event) is INVALID_STATE: an order opens once', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  expect(rejection(decided(sim.deliver(openOrder([{ amount: '5.00' }]))))).toEqual({
    reason: 'INVALID_STATE',
    message: 'order order-1 is already open (opened by another event); an order opens once',
  });
  expect(sim.milestones.get('m-1')!.amount.minor).toBe(100000n);
});

test('a currency that is not ISO 4217 is UNKNOWN_CURRENCY naming it', () => {
  const refused = rejection(decided(simulator().deliver(openOrder([{}], { currency: 'XYZ' }))));
  expect(refused.reason).toBe('UNKNOWN_CURRENCY');
  expect(refused.message).toMatch(/^currency "XYZ" is not an ISO 4217 code/);
});

test.each([
  [[], 'none'],
  [[{ milestoneId: 'a' }, { milestoneId: 'b' }, { milestoneId: 'a' }], 'a, b, a'],
])('milestoneIds %j are INVALID_ORDER: at least one, each unique', (milestones, listed) => {
  const refused = rejection(decided(simulator().deliver(openOrder(milestones))));
  expect(refused).toEqual({
    reason: 'INVALID_ORDER',
    message: `order order-1 needs at least one milestone and unique milestoneIds (got ${listed})`,
  });
});

test('an amount that does not fit the currency is refused naming its milestone index', () => {
  const refused = rejection(
    decided(
      simulator().deliver(
        openOrder([{ amount: '5' }, { milestoneId: 'm-2', amount: '5.5' }], { currency: 'JPY' }),
      ),
    ),
  );
  expect(refused.reason).toBe('AMOUNT_PRECISION');
  expect(refused.message).toMatch(/^milestones\[1\]\.amount: amount "5\.5" has 1 fractional /);
});
