/**
 * Timestamps name a real instant. The ISO-8601 shape alone let impossible
 * dates through: "2026-13-01" failed later, when Date read it, as a processing
 * failure, and "2026-02-30" rolled over into March. Both are INVALID at the
 * validator, naming the field.
 */
import fc from 'fast-check';
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

test('the refusal is a custom issue naming the field', () => {
  const result = milestoneReachedMessage.safeParse({
    ...reached,
    occurredAt: '2026-02-29T10:00:00.5Z',
  });
  expect(result.error!.issues).toStrictEqual([
    {
      code: 'custom',
      path: ['occurredAt'],
      message:
        'is not a real date and time (2026-02-29T10:00:00): month 01-12, a day the month has, ' +
        'hours 00-23, minutes and seconds 00-59; send the instant the event happened',
    },
  ]);
});

/** The rule's definition: Date.UTC reads every field of the timestamp back unchanged. */
function readsBack(value: string): boolean {
  const [year, month, day, hour, minute, second] = value.match(/\d+/g)!.slice(0, 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const instant = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    instant.getUTCFullYear() === year &&
    instant.getUTCMonth() === month - 1 &&
    instant.getUTCDate() === day &&
    instant.getUTCHours() === hour &&
    instant.getUTCMinutes() === minute &&
    instant.getUTCSeconds() === second
  );
}

const accepts = (occurredAt: string) =>
  milestoneReachedMessage.safeParse({ ...reached, occurredAt }).success;

test.each([
  ['2000-02-29T00:00:00Z', true],
  ['2400-02-29T00:00:00Z', true],
  ['1900-02-29T00:00:00Z', false],
  ['2100-02-29T00:00:00Z', false],
  ['2028-02-29T23:59:59Z', true],
  ['2026-12-31T23:59:59Z', true],
  ['2026-06-31T00:00:00Z', false],
  ['2026-11-30T00:00:00Z', true],
  ['9999-12-31T23:59:59Z', true],
  // Date.UTC reads the years 0-99 as 1900-1999, so they never read back.
  ['0099-12-31T23:59:59Z', false],
  ['0000-01-01T00:00:00Z', false],
  ['0100-01-01T00:00:00Z', true],
])('%s: accepted %s, as Date.UTC reads it back', (value, real) => {
  expect(readsBack(value)).toBe(real);
  expect(accepts(value)).toBe(real);
});

test('property: a timestamp of the right shape is accepted exactly when Date.UTC reads its fields back', () => {
  const digits = (count: number, max: number) =>
    fc.integer({ min: 0, max }).map((n) => String(n).padStart(count, '0'));
  const year = fc.oneof(
    digits(4, 9999),
    fc
      .constantFrom(0, 99, 100, 1900, 2000, 2024, 2100, 2400)
      .map((n) => String(n).padStart(4, '0')),
  );
  const timestamp = fc
    .tuple(
      year,
      digits(2, 13),
      fc.oneof(digits(2, 32), digits(2, 99)),
      digits(2, 25),
      digits(2, 61),
      digits(2, 61),
      fc.constantFrom('Z', '.5Z', '.123456789Z', '+00:00', '-00:00'),
    )
    .map(([y, mo, d, h, mi, s, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  fc.assert(
    fc.property(timestamp, (value) => {
      expect(accepts(value)).toBe(readsBack(value));
    }),
    { numRuns: 5000 },
  );
});
