/**
 * escrow.settlements.v1's rules beyond Avro: which fields each type needs,
 * the outcomeId a UUID (the only thing it can match; stored as uuid), no
 * outcomeId on a chargeback (which names the payment), a failure's reason,
 * and the command the consumer hands the pipeline (the same UUID in either
 * case is one outcome).
 */
import { settlementsConsumer } from '../../../consumers/settlements';
import { describeIssues, settlementMessage } from '../../../src/messages/inbound';
import { settlementCommand } from '../../../src/messages/to-command';
import { validMessages } from '../../support/messages';

const [failed, chargeback] = validMessages['escrow.settlements.v1'];

const problemsOf = (value: unknown) => {
  const result = settlementMessage.safeParse(value);
  return result.success ? '' : describeIssues(result.error);
};

test('the fixtures are valid, and a payout failure becomes the domain command with the outcomeId', () => {
  expect(problemsOf(failed)).toBe('');
  expect(problemsOf(chargeback)).toBe('');
  expect(settlementCommand(settlementMessage.parse(failed))).toEqual({
    type: 'PAYOUT_FAILED',
    eventId: 'evt-settle-1',
    orderId: 'order-1',
    milestoneId: 'm-1',
    outcomeId: '0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e',
    gateway: 'payout-service',
    gatewayReference: 'tr_1',
    amount: '900.00',
    currency: 'USD',
    reason: 'ACCOUNT_CLOSED',
  });
});

test('an outcomeId spelled in upper case names the same outcome: the command carries it in lower case', () => {
  const upper = { ...failed, outcomeId: failed.outcomeId.toUpperCase() };
  expect(settlementCommand(settlementMessage.parse(upper))).toMatchObject({
    outcomeId: '0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e',
  });
});

test.each(['PAYOUT_PAID', 'PAYOUT_FAILED', 'REFUND_PAID', 'REFUND_FAILED'] as const)(
  '%s without an outcomeId is invalid, naming the field and the type',
  (type) => {
    expect(problemsOf({ ...failed, type, outcomeId: null })).toContain(
      `outcomeId is required for ${type} events`,
    );
  },
);

test.each(['PAYOUT_FAILED', 'REFUND_FAILED'] as const)(
  '%s needs a reason, and a blank one is refused too',
  (type) => {
    expect(problemsOf({ ...failed, type, reason: null })).toBe(
      `reason is required for ${type} events`,
    );
    expect(problemsOf({ ...failed, type, reason: '  ' })).toBe(
      `reason must say why the transfer failed for ${type} events (e.g. "ACCOUNT_CLOSED")`,
    );
  },
);

test('the refusals are custom issues with the field as their path, in the order of the rules', () => {
  const result = settlementMessage.safeParse({
    ...chargeback,
    type: 'CHARGEBACK_REVERSED',
    outcomeId: failed.outcomeId,
  });
  expect(result.error!.issues).toStrictEqual([
    {
      code: 'custom',
      path: ['outcomeId'],
      message:
        'must be null for CHARGEBACK_REVERSED events, which name the payment by its ' +
        'gatewayReference; send the outcomeId only with PAYOUT_* and REFUND_* settlements',
    },
  ]);
  const both = settlementMessage.safeParse({ ...failed, outcomeId: null, reason: ' ' });
  expect(both.error!.issues).toStrictEqual([
    { code: 'custom', path: ['outcomeId'], message: 'is required for PAYOUT_FAILED events' },
    {
      code: 'custom',
      path: ['reason'],
      message: 'must say why the transfer failed for PAYOUT_FAILED events (e.g. "ACCOUNT_CLOSED")',
    },
  ]);
});

test('a paid settlement needs no reason', () => {
  expect(problemsOf({ ...failed, type: 'PAYOUT_PAID', reason: null })).toBe('');
});

test.each([
  ['not a UUID', 'payout-1'],
  ['a UUID with a character too many', '0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e0'],
  ['a UUID without its dashes', '0b6c1f1e6f1a4c1e9d5e2f3a4b5c6d7e'],
  ['a UUID in braces', '{0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e}'],
])('an outcomeId that is %s is invalid, saying what it must be', (_case, outcomeId) => {
  expect(problemsOf({ ...failed, outcomeId })).toBe(
    'outcomeId must be the outcomeId (a UUID such as "0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e") ' +
      'of the PAYOUT_REQUESTED or REFUND_REQUESTED this settles',
  );
});

test.each(['CHARGEBACK', 'CHARGEBACK_REVERSED'] as const)(
  'a %s naming an outcomeId is invalid: it names the payment by its gatewayReference',
  (type) => {
    expect(problemsOf({ ...chargeback, type, outcomeId: failed.outcomeId })).toBe(
      `outcomeId must be null for ${type} events, which name the payment by its gatewayReference; ` +
        'send the outcomeId only with PAYOUT_* and REFUND_* settlements',
    );
  },
);

test('ids, gateway, amount, currency and timestamp keep the limits of the other topics', () => {
  expect(problemsOf({ ...chargeback, gatewayReference: 'x'.repeat(201) })).toBe(
    'gatewayReference must be at most 200 characters',
  );
  expect(problemsOf({ ...chargeback, gateway: 'g'.repeat(101) })).toBe(
    'gateway must be at most 100 characters',
  );
  expect(problemsOf({ ...chargeback, amount: '1e3' })).toBe(
    'amount must be a decimal string in major units such as "1000.00"',
  );
  expect(problemsOf({ ...chargeback, currency: 'usd' })).toBe(
    'currency must be an ISO 4217 alphabetic code such as "USD"',
  );
  expect(problemsOf({ ...chargeback, occurredAt: '2026-02-30T10:00:00Z' })).toContain(
    'occurredAt is not a real date and time',
  );
  expect(problemsOf({ ...chargeback, type: 'PAYOUT_REVERSED' })).toContain('type');
});

test('the consumer is declared for escrow.settlements.v1', () => {
  expect(settlementsConsumer.topic).toBe('escrow.settlements.v1');
});
