/**
 * The benchmark's workload: deterministic by seed, the size asked for
 * (settlements of payouts and refunds included), about 5% retried callbacks,
 * every order opened before anything else of it, amounts that are exact and
 * add up per milestone, one settlement answer per payout and refund the
 * events cause (a few failed), and a few chargebacks of released payments.
 */
import { consumers } from '../../../consumers';
import { generatePlan, PlanError } from '../../../src/bench/generator';
import type { PlannedEvent } from '../../../src/bench/order-plan';
import { requestKey, settlementOf } from '../../../src/bench/settlement-plan';
import { type Money, parseAmount } from '../../../src/domain/money';

const plan = generatePlan({ events: 5000, seed: 'unit' });
const value = (event: PlannedEvent) => event.message.value;
const text = (event: PlannedEvent, field: string) => value(event)[field] as string;

/** The plan without the send-time stamps, for comparing two plans. */
const withoutTime = (events: readonly PlannedEvent[]) =>
  events.map((event) => {
    const { occurredAt: _o, confirmedAt: _c, ...fields } = value(event);
    return { kind: event.kind, topic: event.message.topic, fields };
  });

test('the same seed gives the same stream and answers; another seed other ones', () => {
  const again = generatePlan({ events: 5000, seed: 'unit' });
  expect(withoutTime(again.events)).toEqual(withoutTime(plan.events));
  expect([...again.answers]).toEqual([...plan.answers]);
  const other = generatePlan({ events: 5000, seed: 'other' });
  expect(withoutTime(other.events)).not.toEqual(withoutTime(plan.events));
  expect([...other.answers]).not.toEqual([...plan.answers]);
});

test('exactly the events asked for with the settlements, about 5% of them retried callbacks', () => {
  expect(plan.events.length + plan.answers.size).toBe(5000);
  // Trimming an event takes the settlements of its requests with it: up to two more retries fill in.
  expect(plan.duplicates).toBeGreaterThanOrEqual(250);
  expect(plan.duplicates).toBeLessThanOrEqual(252);
  const retries = plan.events.filter((event) => event.kind === 'DUPLICATE_PAYMENT');
  expect(retries).toHaveLength(plan.duplicates);
  const position = new Map(plan.events.map((event, index) => [event.message.eventId, index]));
  for (const retry of retries) {
    const original = plan.events[position.get(retry.duplicateOf!)!]!;
    expect(original.kind).toBe('PAYMENT');
    expect(position.get(retry.duplicateOf!)!).toBeLessThan(position.get(retry.message.eventId)!);
    expect(retry.message.eventId).not.toBe(original.message.eventId);
    // The same callback: gateway, reference and substance; only the eventId differs.
    const { eventId: _a, confirmedAt: _b, ...repeated } = value(retry);
    const { eventId: _c, confirmedAt: _d, ...first } = value(original);
    expect(repeated).toEqual(first);
  }
  const eventIds = [
    ...plan.events.map((event) => event.message.eventId),
    ...[...plan.answers.values()].map((answer) => answer.eventId),
  ];
  expect(new Set(eventIds).size).toBe(5000);
});

test('every order is opened before any other event of it, with 2 to 4 milestones', () => {
  const opened = new Map<string, number>();
  for (const event of plan.events) {
    const { orderId } = event.message;
    if (event.kind === 'ORDER_OPENED') {
      expect(opened.has(orderId)).toBe(false);
      const milestones = value(event).milestones as unknown[];
      expect(milestones.length).toBeGreaterThanOrEqual(2);
      expect(milestones.length).toBeLessThanOrEqual(4);
      opened.set(orderId, milestones.length);
    } else {
      expect(opened.has(orderId)).toBe(true);
    }
  }
  expect(opened.size).toBe(plan.orders);
  expect(plan.orders).toBeGreaterThan(300);
});

test('a realistic mix: payments, reached events, refunds, both kinds of dispute settlement', () => {
  const { byKind } = plan;
  // About one settlement per release and refund: a fifth to a third of all events.
  expect(plan.answers.size / 5000).toBeGreaterThan(0.2);
  expect(plan.answers.size / 5000).toBeLessThan(0.35);
  expect(byKind.PAYMENT / 5000).toBeGreaterThan(0.3);
  expect(byKind.REACHED / 5000).toBeGreaterThan(0.15);
  for (const kind of [
    'REFUND_REQUESTED',
    'DISPUTE_OPENED',
    'DISPUTE_RESOLVED',
    'DISPUTE_WITHDRAWN',
  ] as const) {
    expect(byKind[kind]).toBeGreaterThan(10);
  }
  expect(byKind.DISPUTE_OPENED).toBe(byKind.DISPUTE_RESOLVED + byKind.DISPUTE_WITHDRAWN);
});

test('amounts are exact in their currency and add up per milestone', () => {
  const milestones = new Map<string, { amount: Money; paid: bigint; opened: number }>();
  plan.events.forEach((event, index) => {
    if (event.kind !== 'ORDER_OPENED') return;
    const currency = text(event, 'currency');
    for (const m of value(event).milestones as { milestoneId: string; amount: string }[]) {
      const amount = parseAmount(m.amount, currency); // throws on a precision the currency lacks
      milestones.set(`${event.message.orderId}/${m.milestoneId}`, {
        amount,
        paid: 0n,
        opened: index,
      });
    }
  });
  const of = (event: PlannedEvent) =>
    milestones.get(`${event.message.orderId}/${text(event, 'milestoneId')}`)!;
  for (const event of plan.events) {
    const milestone = event.kind === 'ORDER_OPENED' ? undefined : of(event);
    if (!milestone) continue;
    const parse = (amount: string) =>
      parseAmount(amount, milestone.amount.currency, { allowZero: true });
    if (event.kind === 'PAYMENT') {
      expect(text(event, 'currency')).toBe(milestone.amount.currency);
      milestone.paid += parse(text(event, 'amount')).minor;
    }
    if (event.kind === 'REFUND_REQUESTED') {
      expect(parse(text(event, 'amount')).minor).toBeLessThan(milestone.amount.minor);
    }
    if (event.kind === 'DISPUTE_RESOLVED') {
      const split = value(event).resolution as { providerAmount: string; buyerAmount: string };
      const total = parse(split.providerAmount).minor + parse(split.buyerAmount).minor;
      expect(total).toBe(milestone.amount.minor);
    }
  }
  // The stream's end may cut the last payments of the latest orders; the others are whole.
  for (const milestone of milestones.values()) {
    expect(milestone.paid).toBeLessThanOrEqual(milestone.amount.minor);
    if (milestone.opened < 0.8 * plan.events.length)
      expect(milestone.paid).toBe(milestone.amount.minor);
  }
});

test('--orders sets the number of orders; too few or too many for --events is refused with the fix', () => {
  expect(generatePlan({ events: 1000, orders: 120, seed: 'x' }).orders).toBe(120);
  expect(generatePlan({ events: 1000, orders: 400, seed: 'x' }).orders).toBe(400);
  expect(() => generatePlan({ events: 1000, orders: 5, seed: 'x' })).toThrow(
    /use --orders \d+ or more/,
  );
  expect(() => generatePlan({ events: 1000, orders: 990, seed: 'x' })).toThrow(PlanError);
  expect(() => generatePlan({ events: 3, seed: 'x' })).toThrow(/at least 10/);
});

test('one answer per payout and refund the events cause in order, a few of them failures', () => {
  const expected = plan.events.flatMap((event) =>
    (event.requests ?? []).map((request) =>
      requestKey(event.message.orderId, request.milestoneId, request.kind),
    ),
  );
  expect(new Set(expected).size).toBe(expected.length);
  expect([...plan.answers.keys()].sort()).toEqual([...expected].sort());
  // What causes one: a release (reached, or the last payment of one reached early), a refund,
  // a dispute's resolution (each part that is not zero).
  for (const event of plan.events.filter((e) => e.requests)) {
    expect(['REACHED', 'PAYMENT', 'REFUND_REQUESTED', 'DISPUTE_RESOLVED']).toContain(event.kind);
  }
  const answers = [...plan.answers.values()];
  const failed = answers.filter((answer) => answer.type.endsWith('_FAILED'));
  expect(failed.length / answers.length).toBeGreaterThan(0.01);
  expect(failed.length / answers.length).toBeLessThan(0.08);
  for (const answer of failed) expect(answer.reason).toMatch(/^[A-Z_]+$/);
  for (const answer of answers.filter((a) => !a.type.endsWith('_FAILED')))
    expect(answer.reason).toBeNull();
  // Each answer is its own transfer: the worker deduplicates on gateway, reference and type.
  const transfers = new Set(answers.map((a) => `${a.gateway}/${a.gatewayReference}/${a.type}`));
  expect(transfers.size).toBe(answers.length);
  expect(answers.filter((answer) => answer.type.startsWith('REFUND_')).length).toBeGreaterThan(50);
});

test("a settlement is built from the request as published: its outcomeId and exact amount, valid for the worker's consumer", () => {
  const handler = consumers.find((consumer) => consumer.topic === 'escrow.settlements.v1')!;
  const [key, answer] = [...plan.answers].find(([, a]) => a.type === 'PAYOUT_FAILED')!;
  const [orderId, milestoneId] = key.split('/');
  const outcomeId = '0b5e7f1c-3c1e-4a57-9d55-1f0a7b6c2d3e';
  const failed = settlementOf(
    {
      type: 'PAYOUT_REQUESTED',
      outcomeId,
      orderId: orderId!,
      milestoneId: milestoneId!,
      currency: 'EUR',
      netAmount: '812.34',
    },
    answer,
  );
  expect(failed.value).toMatchObject({
    eventId: answer.eventId,
    type: 'PAYOUT_FAILED',
    outcomeId,
    amount: '812.34',
    currency: 'EUR',
    reason: answer.reason,
  });
  expect(handler.parse(failed.value).ok).toBe(true);
  // A request the plan did not expect is paid, under ids made from its outcomeId.
  const unplanned = settlementOf(
    { type: 'REFUND_REQUESTED', outcomeId, orderId: 'order-9', currency: 'JPY', amount: '500' },
    undefined,
  );
  expect(unplanned.value).toMatchObject({ type: 'REFUND_PAID', amount: '500', outcomeId });
  expect(handler.parse(unplanned.value).ok).toBe(true);
});

test('a few chargebacks, each of an earlier payment of a milestone released in full, at most its amount', () => {
  const payments = new Map(
    plan.events
      .filter((event) => event.kind === 'PAYMENT')
      .map((event, index) => [
        `${text(event, 'gateway')}/${text(event, 'gatewayReference')}`,
        { event, index },
      ]),
  );
  const position = new Map(plan.events.map((event, index) => [event.message.eventId, index]));
  const chargebacks = plan.events.filter((event) => event.kind === 'CHARGEBACK');
  expect(chargebacks.length / plan.byKind.PAYMENT).toBeGreaterThan(0.005);
  expect(chargebacks.length / plan.byKind.PAYMENT).toBeLessThan(0.03);
  const handler = consumers.find((consumer) => consumer.topic === 'escrow.settlements.v1')!;
  for (const chargeback of chargebacks) {
    expect(handler.parse(value(chargeback)).ok).toBe(true);
    expect(value(chargeback).outcomeId).toBeNull();
    const paid = payments.get(
      `${text(chargeback, 'gateway')}/${text(chargeback, 'gatewayReference')}`,
    )!;
    expect(paid.event.message.orderId).toBe(chargeback.message.orderId);
    expect(text(chargeback, 'currency')).toBe(text(paid.event, 'currency'));
    const amount = (event: PlannedEvent) =>
      parseAmount(text(event, 'amount'), text(event, 'currency')).minor;
    expect(amount(chargeback)).toBeLessThanOrEqual(amount(paid.event));
    // After the milestone's release: its reached event comes first in the order's own timeline.
    const reached = plan.events.find(
      (event) =>
        event.kind === 'REACHED' &&
        event.message.orderId === chargeback.message.orderId &&
        text(event, 'milestoneId') === text(chargeback, 'milestoneId'),
    )!;
    expect(reached.step).toBeLessThan(chargeback.step);
    expect(position.get(paid.event.message.eventId)!).toBeLessThan(
      position.get(chargeback.message.eventId)!,
    );
  }
});
