import {
  dedupeKey,
  inboxVerdict,
  type MarkReached,
  substanceBeforeVersion2,
  substanceOf,
} from '../../../src/domain/escrow';
import { decided, openOrder, payment, simulator } from './fixtures';

test('payments are keyed on gateway and reference, every other event on its eventId', () => {
  expect(dedupeKey(payment('1.00', { gateway: 'adyen', gatewayReference: 'psp-9' }))).toBe(
    'payment:["adyen","psp-9"]',
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

test('the substance text is pinned: stored hashes depend on its exact key order (localeCompare, not code points)', () => {
  const opened = {
    type: 'ORDER_OPENED',
    eventId: 'e-2',
    orderId: 'o-2',
    buyerId: 'b',
    providerId: 'p',
    currency: 'EUR',
    milestones: [
      { milestoneId: 'B', amount: '1.00', releaseCondition: 'ANY', Zeta: 1, alpha: undefined },
      { milestoneId: 'a', amount: '2.00', releaseCondition: 'BUYER_APPROVED' },
    ],
  } as unknown as Parameters<typeof substanceOf>[0];
  const expected =
    '{"buyerId":"b","currency":"EUR","milestones":[' +
    '{"amount":"1","milestoneId":"B","releaseCondition":"ANY","Zeta":1},' +
    '{"amount":"2","milestoneId":"a","releaseCondition":"BUYER_APPROVED"}],' +
    '"orderId":"o-2","providerId":"p","type":"ORDER_OPENED"}';
  // Twice: the second call takes each shape's key order from the cache.
  expect(substanceOf(opened)).toBe(expected);
  expect(substanceOf(opened)).toBe(expected);
  // Version 1, which rows stored before hold hashes of, never changes either.
  expect(substanceBeforeVersion2(opened)).toBe(
    '{"buyerId":"b","currency":"EUR","milestones":[' +
      '{"amount":"1.00","milestoneId":"B","releaseCondition":"ANY","Zeta":1},' +
      '{"amount":"2.00","milestoneId":"a","releaseCondition":"BUYER_APPROVED"}],' +
      '"orderId":"o-2","providerId":"p","type":"ORDER_OPENED"}',
  );
  expect(
    substanceBeforeVersion2(payment('300.00', { gateway: 'adyen', gatewayReference: 'psp-1' })),
  ).toBe(
    '{"amount":"300.00","currency":"USD","kind":"DEPOSIT","milestoneId":"m-1",' +
      '"orderId":"order-1","type":"PAYMENT_CONFIRMED"}',
  );
  expect(
    substanceOf(payment('300.00', { gateway: 'adyen', gatewayReference: 'psp-1', eventId: 'x' })),
  ).toBe(substanceOf(payment('300.00', { gateway: 'adyen', gatewayReference: 'psp-1' })));
});

test('objects whose keys only differ in where a separator falls, or hold "__proto__", keep every field', () => {
  const substance = (fields: string) =>
    substanceOf({
      type: 'ORDER_CANCELLED',
      eventId: 'e',
      orderId: 'o',
      extra: JSON.parse(fields) as unknown,
    } as unknown as Parameters<typeof substanceOf>[0]);
  expect(substance('{"a":1,"b":2}')).toContain('"extra":{"a":1,"b":2}');
  expect(substance('{"a\\u0000b":1}')).toContain('"extra":{"a\\u0000b":1}');
  expect(substance('{"a\\u0000b":1,"c":2}')).not.toBe(substance('{"a":1,"b\\u0000c":2}'));
  expect(substance('{"__proto__":{"x":1}}')).toContain('"extra":{"__proto__":{"x":1}}');
});

test('gateway and reference cannot trade a separator: two payments, two keys, two substances', () => {
  const first = payment('300.00', { gateway: 'adyen:eu', gatewayReference: 'psp-1' });
  const second = payment('300.00', { gateway: 'adyen', gatewayReference: 'eu:psp-1' });
  expect(dedupeKey(first)).not.toBe(dedupeKey(second));
  expect(substanceOf(first)).not.toBe(substanceOf(second));
  for (const [gateway, gatewayReference] of [
    ['a"', 'b'],
    ['a', '"b'],
    ['a\\', 'b'],
    ['[', ']'],
  ]) {
    const key = dedupeKey(payment('1.00', { gateway, gatewayReference }));
    expect(JSON.parse(key.slice('payment:'.length))).toEqual([gateway, gatewayReference]);
  }
});

test.each([
  ['250', '250.00'],
  ['250.5', '250.50'],
  ['0250.00', '250'],
  ['0.10', '0.1'],
])('a retried callback spelling %p as %p is a duplicate, not a conflict', (first, again) => {
  const sim = simulator();
  sim.deliver(openOrder());
  const original = payment(first, { gatewayReference: 'ch-spelled' });
  expect(substanceOf({ ...original, amount: again })).toBe(substanceOf(original));
  decided(sim.deliver(original));
  expect(sim.deliver({ ...original, eventId: 'retry', amount: again })).toBe('DUPLICATE');
});

test('amounts of another value stay a conflict, and every amount field counts by value', () => {
  expect(substanceOf(payment('250.01', {}))).not.toBe(substanceOf(payment('250', {})));
  const refund = (amount: string) =>
    substanceOf({
      type: 'REFUND_REQUESTED',
      eventId: 'e',
      orderId: 'o',
      milestoneId: 'm',
      amount,
      reason: 'r',
    } as unknown as Parameters<typeof substanceOf>[0]);
  expect(refund('10')).toBe(refund('10.000'));
  expect(refund('10')).not.toBe(refund('1.0'));
  // A reason that looks like an amount is text, compared as written.
  const withReason = (reason: string) =>
    substanceOf({
      type: 'REFUND_REQUESTED',
      eventId: 'e',
      orderId: 'o',
      milestoneId: 'm',
      amount: '1',
      reason,
    } as unknown as Parameters<typeof substanceOf>[0]);
  expect(withReason('10')).not.toBe(withReason('10.00'));
});
