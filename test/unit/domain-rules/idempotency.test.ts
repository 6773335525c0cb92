/**
 * CONTRACT.md, Conventions: a redelivery under one key with the same substance
 * is a duplicate, a different substance an IDEMPOTENCY_CONFLICT. Amounts count
 * by value in every amount field ("250" is "250.00"), never by a looser match
 * ("1.05" is not "1.5", "100" is not "10"); a malformed amount keeps its text.
 * A payment's substance is its gateway, reference, order, milestone, kind,
 * amount and currency, nothing else: a retried callback's new timestamp is
 * not a new payment.
 */
import {
  type ConfirmPayment,
  type EscrowCommand,
  inboxVerdict,
  substanceOf,
} from '../../../src/domain/escrow';

const refund = (amount: string): EscrowCommand => ({
  type: 'REFUND_REQUESTED',
  eventId: 'e-1',
  orderId: 'o-1',
  milestoneId: 'm-1',
  amount,
  reason: 'REQUESTED',
});
const reached = (finalAmount: string): EscrowCommand => ({
  type: 'MILESTONE_REACHED',
  eventId: 'e-1',
  orderId: 'o-1',
  milestoneId: 'm-1',
  condition: 'DELIVERY_CONFIRMED',
  finalAmount,
});
const resolved = (providerAmount: string, buyerAmount: string): EscrowCommand => ({
  type: 'DISPUTE_RESOLVED',
  eventId: 'e-1',
  orderId: 'o-1',
  milestoneId: 'm-1',
  disputeId: 'd-1',
  resolution: { providerAmount, buyerAmount },
});
const payment = (amount: string): ConfirmPayment => ({
  type: 'PAYMENT_CONFIRMED',
  eventId: 'e-1',
  gateway: 'stripe',
  gatewayReference: 'ch-1',
  orderId: 'o-1',
  milestoneId: 'm-1',
  kind: 'DEPOSIT',
  amount,
  currency: 'USD',
});

/** The verdict on `again` delivered under the key `first` was stored with. */
const verdict = (first: EscrowCommand, again: EscrowCommand) =>
  inboxVerdict(substanceOf(first), substanceOf(again));

describe('every amount field counts by value', () => {
  test.each([
    ['finalAmount', reached('90'), reached('90.00'), reached('90.01')],
    [
      'resolution.providerAmount',
      resolved('600', '400.00'),
      resolved('600.00', '400.00'),
      resolved('600.10', '400.00'),
    ],
    [
      'resolution.buyerAmount',
      resolved('600.00', '400'),
      resolved('600.00', '400.00'),
      resolved('600.00', '400.10'),
    ],
  ])(
    '%s: the same value spelled otherwise is a duplicate, another value a conflict',
    (_field, first, same, other) => {
      expect(verdict(first, same)).toBe('DUPLICATE');
      expect(verdict(first, other)).toBe('IDEMPOTENCY_CONFLICT');
    },
  );

  test.each([
    ['0250', '250'],
    ['00250', '250'],
    ['250.500', '250.5'],
    ['0.10', '0.1'],
  ])('%p is the value of %p: a duplicate', (first, again) => {
    expect(verdict(refund(first), refund(again))).toBe('DUPLICATE');
  });

  test.each([
    ['100', '10'],
    ['1.05', '1.5'],
    ['250.5', '250'],
    ['250.5', '250.25'],
    ['1.5x', '1.50x'],
    ['x1.5', 'x1.50'],
  ])('%p and %p are different amounts (or texts): a conflict', (first, again) => {
    expect(verdict(refund(first), refund(again))).toBe('IDEMPOTENCY_CONFLICT');
  });

  // Stored hashes are of this exact text: a zero, however spelled or signed, is "0".
  test.each(['0.00', '-0.00', '0'])('a zero amount %p is stored as "0"', (zero) => {
    expect(substanceOf(refund(zero))).toContain('"amount":"0"');
  });
});

test('a payment retried with a timestamp of its own is the same payment: a duplicate', () => {
  const first = payment('300.00');
  // A command that kept the callback's confirmedAt (as a future field might) decides nothing more.
  const retried: ConfirmPayment & { confirmedAt: string } = {
    ...first,
    eventId: 'e-2',
    confirmedAt: '2026-03-01T10:05:00Z',
  };
  expect(verdict(first, retried)).toBe('DUPLICATE');
  expect(verdict(first, { ...first, amount: '300.01' })).toBe('IDEMPOTENCY_CONFLICT');
});
