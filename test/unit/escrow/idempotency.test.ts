import { dedupeKey, inboxVerdict, type MarkReached, substanceOf } from '../../../src/domain/escrow';
import { decided, openOrder, payment, simulator } from './fixtures';

test('payments are keyed on gateway and reference, every other event on its eventId', () => {
  expect(dedupeKey(payment('1.00', { gateway: 'adyen', gatewayReference: 'psp-9' }))).toBe(
    'payment:adyen:psp-9',
  );
  expect(dedupeKey({ type: 'ORDER_CANCELLED', eventId: 'e-7', orderId: 'o' })).toBe('event:e-7');
});

test('a retried callback with a new eventId is the same substance: a duplicate with no effect', () => {
  const sim = simulator();
  sim.deliver(openOrder());
  const first = payment('300.00', { gatewayReference: 'ch-retry' });
  const retried = { ...first, eventId: 'a-new-event-id' };
  expect(substanceOf(retried)).toBe(substanceOf(first));
  decided(sim.deliver(first));
  const before = sim.balance('ESCROW_HOLD:USD:order-1:m-1');
  for (let delivery = 0; delivery < 9; delivery++) expect(sim.deliver(retried)).toBe('DUPLICATE');
  expect(sim.balance('ESCROW_HOLD:USD:order-1:m-1')).toBe(before);
  expect(sim.milestones.get('m-1')!.version).toBe(2);
});

test.each([
  ['amount', { amount: '301.00' }],
  ['currency', { currency: 'EUR' }],
  ['kind', { kind: 'INSTALLMENT' as const }],
  ['milestone', { milestoneId: 'm-2' }],
  ['order', { orderId: 'order-2' }],
])(
  'the same gateway reference with another %s is an IDEMPOTENCY_CONFLICT and changes nothing',
  (_field, change) => {
    const sim = simulator();
    sim.deliver(openOrder([{}, {}]));
    const first = payment('300.00', { gatewayReference: 'ch-reused' });
    sim.deliver(first);
    const balances = [...sim.balances];
    expect(sim.deliver({ ...first, ...change, eventId: 'other' })).toBe('IDEMPOTENCY_CONFLICT');
    expect([...sim.balances]).toEqual(balances);
  },
);

test('for other events the eventId is the key and every other field is substance', () => {
  const reached: MarkReached = {
    type: 'MILESTONE_REACHED',
    eventId: 'e-reached',
    orderId: 'o',
    milestoneId: 'm',
    condition: 'ANY',
  };
  const stored = substanceOf(reached);
  expect(inboxVerdict(undefined, stored)).toBe('NEW');
  expect(inboxVerdict(stored, substanceOf({ ...reached }))).toBe('DUPLICATE');
  expect(inboxVerdict(stored, substanceOf({ ...reached, condition: 'BUYER_APPROVED' }))).toBe(
    'IDEMPOTENCY_CONFLICT',
  );
});
