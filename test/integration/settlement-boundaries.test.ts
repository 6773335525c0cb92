/**
 * Settlements at the edges, through the one path on real Postgres, as an
 * attacker would try them: amounts at the edge of BIGINT, negative, zero,
 * with a digit too many; a currency the runtime does not know; the same
 * amount spelled two ways; separators inside the gateway and reference that
 * would join two different keys into one; a chargeback larger than its
 * payment or in another currency. Each refusal names its reason, and nothing
 * of a refused settlement survives: no ledger transaction, no settlement,
 * the payable untouched.
 */
import type { EscrowCommand, Settle } from '../../src/domain/escrow';
import {
  milestone,
  openOrder,
  payment,
  reached,
  useContractPipeline,
} from '../support/contract-pipeline';
import {
  accountTotal,
  inboxOutcomeOf,
  ledgerOf,
  outboxMark,
  outboxOf,
} from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

let sequence = 0;
const settle = (
  type: Settle['type'],
  orderId: string,
  fields: Partial<Settle> & Pick<Settle, 'gatewayReference' | 'amount'>,
): EscrowCommand => ({
  type,
  eventId: `settle-${++sequence}`,
  orderId,
  milestoneId: 'm-1',
  outcomeId: null,
  gateway: 'payout-service',
  currency: 'USD',
  reason: null,
  ...fields,
});

/** Opens, funds (1000.00 by ch-<order>) and releases an order; its payout's outcome id (net 900.00). */
async function released(orderId: string): Promise<string> {
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', '1000.00')]));
  await pipeline.deliver(payment(orderId, 'm-1', '1000.00', `ch-${orderId}`));
  const mark = await outboxMark(ctx.db, orderId);
  await pipeline.deliver(reached(orderId, 'm-1'));
  const rows = await outboxOf(ctx.db, orderId, mark);
  return rows.find((row) => row.type === 'PAYOUT_REQUESTED')!.payload.outcomeId as string;
}

const inboxOutcome = (dedupeKey: string) => inboxOutcomeOf(ctx.db, dedupeKey);

const payableOf = (orderId: string) =>
  accountTotal(ctx.db, `PROVIDER_PAYABLE:USD:provider-${orderId}`);

test.each([
  ['an amount past BIGINT', '92233720368547758.08', 'INVALID_AMOUNT'],
  ['a negative amount', '-900.00', 'INVALID_AMOUNT'],
  ['zero', '0.00', 'INVALID_AMOUNT'],
  ['a digit more than USD has', '900.001', 'AMOUNT_PRECISION'],
])('a payout settlement with %s is refused %s and moves nothing', async (_case, amount, reason) => {
  const orderId = `o-amount-${reason}-${amount.replace(/\W/g, '')}`;
  const outcomeId = await released(orderId);
  const before = (await ledgerOf(ctx.db, orderId)).length;
  const result = await pipeline.deliver(
    settle('PAYOUT_PAID', orderId, { outcomeId, gatewayReference: `tr-${orderId}`, amount }),
  );
  expect(result).toMatchObject({ verdict: 'REJECTED', reason });
  expect((await ledgerOf(ctx.db, orderId)).length).toBe(before);
  expect(await payableOf(orderId)).toBe('90000');
  const row = await ctx
    .db('disbursements')
    .where({ outcome_id: outcomeId })
    .first<{ state: string }>('state');
  expect(row.state).toBe('REQUESTED');
});

test('a currency the runtime does not know is refused UNKNOWN_CURRENCY, and moves nothing', async () => {
  const outcomeId = await released('o-zzz');
  const result = await pipeline.deliver(
    settle('PAYOUT_PAID', 'o-zzz', {
      outcomeId,
      gatewayReference: 'tr-zzz',
      amount: '900.00',
      currency: 'ZZZ',
    }),
  );
  expect(result).toMatchObject({ verdict: 'REJECTED', reason: 'UNKNOWN_CURRENCY' });
  expect(await payableOf('o-zzz')).toBe('90000');
});

test('the net spelled "900" settles a net of 900.00; "900.00" under a new eventId is then a duplicate', async () => {
  const outcomeId = await released('o-spelled');
  const first = settle('PAYOUT_PAID', 'o-spelled', {
    outcomeId,
    gatewayReference: 'tr-spelled',
    amount: '900',
  });
  expect(await pipeline.deliver(first)).toMatchObject({ verdict: 'APPLIED' });
  expect(await payableOf('o-spelled')).toBe('0');
  const again = { ...first, eventId: 'settle-spelled-again', amount: '900.00' } as EscrowCommand;
  expect(await pipeline.deliver(again)).toMatchObject({ verdict: 'DUPLICATE' });
  // Another amount under the same (gateway, reference, type) is a reused key, not a duplicate.
  const reused = { ...first, eventId: 'settle-spelled-other', amount: '899.99' } as EscrowCommand;
  expect(await pipeline.deliver(reused)).toMatchObject({ verdict: 'IDEMPOTENCY_CONFLICT' });
  expect(await payableOf('o-spelled')).toBe('0');
});

test('separators inside gateway and reference keep two settlements apart', async () => {
  const first = await released('o-sep-1');
  const second = await released('o-sep-2');
  // Joined with ":" both would read "psp:eu:tr-1"; each is a key of its own.
  const one = settle('PAYOUT_PAID', 'o-sep-1', {
    outcomeId: first,
    gateway: 'psp:eu',
    gatewayReference: 'tr-1',
    amount: '900.00',
  });
  const two = settle('PAYOUT_PAID', 'o-sep-2', {
    outcomeId: second,
    gateway: 'psp',
    gatewayReference: 'eu:tr-1',
    amount: '900.00',
  });
  expect(await pipeline.deliver(one)).toMatchObject({ verdict: 'APPLIED' });
  expect(await pipeline.deliver(two)).toMatchObject({ verdict: 'APPLIED' });
  expect(await inboxOutcome('settlement:["psp:eu","tr-1","PAYOUT_PAID"]')).toBe('APPLIED');
  expect(await inboxOutcome('settlement:["psp","eu:tr-1","PAYOUT_PAID"]')).toBe('APPLIED');
  expect([await payableOf('o-sep-1'), await payableOf('o-sep-2')]).toEqual(['0', '0']);
});

test.each([
  ['of more than the payment', '1000.01', 'USD'],
  ['in another currency than the payment', '1000.00', 'EUR'],
])(
  'a chargeback %s is refused SETTLEMENT_MISMATCH and moves nothing',
  async (_case, amount, currency) => {
    const orderId = `o-cb-${currency}-${amount.replace(/\W/g, '')}`;
    await released(orderId);
    const before = (await ledgerOf(ctx.db, orderId)).length;
    const result = await pipeline.deliver(
      settle('CHARGEBACK', orderId, {
        gateway: 'stripe',
        gatewayReference: `ch-${orderId}`,
        amount,
        currency,
      }),
    );
    expect(result).toMatchObject({ verdict: 'REJECTED', reason: 'SETTLEMENT_MISMATCH' });
    expect((await ledgerOf(ctx.db, orderId)).length).toBe(before);
    expect(await ctx.db('chargebacks').where({ order_id: orderId }).count()).toEqual([
      { count: '0' },
    ]);
  },
);
