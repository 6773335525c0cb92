/**
 * The benchmark's workload: deterministic by seed, the size asked for, about
 * 5% retried callbacks, every order opened before anything else of it, and
 * amounts that are exact and add up per milestone.
 */
import { generatePlan, PlanError } from '../../../src/bench/generator';
import type { PlannedEvent } from '../../../src/bench/order-plan';
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

test('the same seed gives the same stream; another seed another one', () => {
  const again = generatePlan({ events: 5000, seed: 'unit' });
  expect(withoutTime(again.events)).toEqual(withoutTime(plan.events));
  const other = generatePlan({ events: 5000, seed: 'other' });
  expect(withoutTime(other.events)).not.toEqual(withoutTime(plan.events));
});

test('exactly the events asked for, about 5% of them retried callbacks of earlier payments', () => {
  expect(plan.events).toHaveLength(5000);
  expect(plan.duplicates).toBe(250);
  const retries = plan.events.filter((event) => event.kind === 'DUPLICATE_PAYMENT');
  expect(retries).toHaveLength(250);
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
  expect(new Set(plan.events.map((event) => event.message.eventId)).size).toBe(5000);
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
