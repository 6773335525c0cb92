/**
 * Timestamps name a real instant. The ISO-8601 shape alone let impossible
 * dates through: "2026-13-01" failed later, when Date read it, as a processing
 * failure, and "2026-02-30" rolled over into March. Both are INVALID at the
 * validator, naming the field.
 */
import {
  describeIssues,
  disputeMessage,
  milestoneReachedMessage,
  orderMessage,
  paymentConfirmedMessage,
} from '../../../src/messages/inbound';
import { validMessages } from '../../support/messages';

const [opened] = validMessages['escrow.orders.v1'];
const [payment] = validMessages['escrow.payment-confirmed.v1'];
const [reached] = validMessages['escrow.milestone-reached.v1'];
const [dispute] = validMessages['escrow.disputes.v1'];

test.each([
  '2026-13-01T10:00:00Z',
  '2026-00-10T10:00:00Z',
  '2026-02-30T10:00:00Z',
  '2026-02-29T10:00:00Z',
  '2026-04-31T10:00:00Z',
  '2026-01-00T10:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T10:60:00Z',
  '2026-12-31T23:59:60Z',
])('%s is refused in every timestamp field, which is named', (impossible) => {
  const cases: [
    string,
    { safeParse(value: unknown): { success: boolean; error?: unknown } },
    object,
  ][] = [
    ['occurredAt', orderMessage, { ...opened, occurredAt: impossible }],
    ['confirmedAt', paymentConfirmedMessage, { ...payment, confirmedAt: impossible }],
    ['occurredAt', milestoneReachedMessage, { ...reached, occurredAt: impossible }],
    ['occurredAt', disputeMessage, { ...dispute, occurredAt: impossible }],
  ];
  for (const [field, validator, message] of cases) {
    const result = validator.safeParse(message);
    expect(result.success).toBe(false);
    const problems = describeIssues(result.error as Parameters<typeof describeIssues>[0]);
    expect(problems).toBe(
      `${field} is not a real date and time (${impossible.slice(0, 19)}): month 01-12, a day the ` +
        'month has, hours 00-23, minutes and seconds 00-59; send the instant the event happened',
    );
  }
});

test.each([
  '2024-02-29T10:00:00Z',
  '2026-12-31T23:59:59.999999999Z',
  '2026-01-01T00:00:00+00:00',
  '2000-02-29T00:00:00-00:00',
])('%s, a real instant, is accepted', (real) => {
  expect(paymentConfirmedMessage.safeParse({ ...payment, confirmedAt: real }).success).toBe(true);
});

test('a timestamp of the wrong shape keeps its own message', () => {
  const result = orderMessage.safeParse({ ...opened, occurredAt: '2026-03-01 10:00:00' });
  expect(describeIssues(result.error!)).toBe(
    'occurredAt must be an ISO-8601 timestamp in UTC such as "2026-03-01T10:00:00Z"',
  );
});
