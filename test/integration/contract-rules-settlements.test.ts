/**
 * Settlements through the one path (applyEvent under the order's Redlock
 * lock, real Postgres): each PAYOUT_REQUESTED / REFUND_REQUESTED recorded as
 * a disbursement with its outbox row; a payout paid once, for its exact net;
 * a chargeback kept before its payment and replayed, in a later transaction,
 * when the payment arrives; a receivable netted by the provider's next
 * release of another order, and by two such releases racing on two orders,
 * exactly once between them; a reversal that pays back what was recovered.
 */
import {
  milestone,
  openOrder,
  payment,
  reached,
  useContractPipeline,
} from '../support/contract-pipeline';
import { ledgerOf, outboxMark, outboxOf, posted } from '../support/contract-rows';
import { useTestContext } from '../support/test-context';
import { settlement } from '../support/contract-pipeline';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

/** Opens, funds and releases a milestone; returns the payout's outcome id. */
async function release(orderId: string, amount: string, providerId: string): Promise<string> {
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', amount)], { providerId }));
  await pipeline.deliver(payment(orderId, 'm-1', amount, `ch-${orderId}`));
  const mark = await outboxMark(ctx.db, orderId);
  await pipeline.deliver(reached(orderId, 'm-1'));
  const payouts = (await outboxOf(ctx.db, orderId, mark)).filter(
    (row) => row.type === 'PAYOUT_REQUESTED',
  );
  return payouts[0]?.payload.outcomeId as string;
}

const disbursement = (outcomeId: string) =>
  ctx
    .db('disbursements')
    .where({ outcome_id: outcomeId })
    .first<Record<string, unknown> | undefined>(
      'kind',
      'state',
      'amount_minor',
      'gross_minor',
      'fee_minor',
      'recovered_minor',
      'party_id',
    );

const receivable = async (providerId: string) => {
  const row = await ctx
    .db('accounts')
    .where({ code: `PROVIDER_RECEIVABLE:USD:${providerId}` })
    .first<{ balance_minor: string } | undefined>('balance_minor');
  return row?.balance_minor ?? '0';
};

test('a payout is recorded with its outbox row, paid once for its exact net, duplicates absorbed', async () => {
  const outcomeId = await release('o-paid', '1000.00', 'p-paid');
  expect(await disbursement(outcomeId)).toEqual({
    kind: 'PAYOUT',
    state: 'REQUESTED',
    amount_minor: '90000',
    gross_minor: '100000',
    fee_minor: '10000',
    recovered_minor: '0',
    party_id: 'p-paid',
  });
  const short = await pipeline.deliver(
    settlement('PAYOUT_PAID', 'o-paid', {
      outcomeId,
      gatewayReference: 'tr-short',
      amount: '899.99',
    }),
  );
  expect(short).toMatchObject({
    verdict: 'REJECTED',
    reason: 'SETTLEMENT_MISMATCH',
    ledgerTransactions: 0,
  });
  const paid = settlement('PAYOUT_PAID', 'o-paid', {
    outcomeId,
    gatewayReference: 'tr-1',
    amount: '900.00',
  });
  expect(await pipeline.deliver(paid)).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 1 });
  // A retrying adapter: same (gateway, reference, type), a new eventId.
  expect(await pipeline.deliver({ ...paid, eventId: 'retried-callback' })).toMatchObject({
    verdict: 'DUPLICATE',
  });
  // Paid again under another transfer reference: refused, nothing moves.
  expect(
    await pipeline.deliver(
      settlement('PAYOUT_PAID', 'o-paid', {
        outcomeId,
        gatewayReference: 'tr-2',
        amount: '900.00',
      }),
    ),
  ).toMatchObject({ verdict: 'REJECTED', reason: 'INVALID_STATE' });
  expect(await disbursement(outcomeId)).toMatchObject({ state: 'PAID' });
  const settled = (await ledgerOf(ctx.db, 'o-paid'))
    .map(posted)
    .filter((t) => t.kind === 'PAYOUT_SETTLEMENT');
  expect(settled).toEqual([
    {
      kind: 'PAYOUT_SETTLEMENT',
      milestoneId: 'm-1',
      cause: paid.eventId,
      entries: { 'PROVIDER_PAYABLE:USD:p-paid': '-90000', 'GATEWAY_CLEARING:USD': '90000' },
    },
  ]);
  const row = await ctx
    .db('disbursements')
    .where({ outcome_id: outcomeId })
    .first<Record<string, unknown> & { settled_at: unknown }>(
      'settlement_reference',
      'settlement_event_id',
      'settled_at',
    );
  expect(row).toMatchObject({ settlement_reference: 'tr-1', settlement_event_id: paid.eventId });
  expect(row.settled_at).toBeInstanceOf(Date);
});

test('a chargeback before its payment is kept, and applied in the transaction that applies the payment', async () => {
  const orderId = 'o-early-cb';
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', '1000.00')]));
  const chargeback = settlement('CHARGEBACK', orderId, {
    gatewayReference: 'ch-early',
    amount: '300.00',
  });
  expect(await pipeline.deliver(chargeback)).toMatchObject({ verdict: 'KEPT' });
  expect(
    await ctx.db('kept_events').where({ order_id: orderId }).select('awaiting', 'replayed_at'),
  ).toEqual([{ awaiting: 'payment:["stripe","ch-early"]', replayed_at: null }]);

  const funding = payment(orderId, 'm-1', '1000.00', 'ch-early');
  expect(await pipeline.deliver(funding)).toMatchObject({
    verdict: 'APPLIED',
    ledgerTransactions: 2,
  });
  const kinds = (await ledgerOf(ctx.db, orderId)).map((t) => [t.kind, t.cause]);
  expect(kinds).toEqual([
    ['FUNDING', funding.eventId],
    ['CHARGEBACK', chargeback.eventId],
  ]);
  const milestoneRow = await ctx
    .db('milestones')
    .where({ order_id: orderId, milestone_id: 'm-1' })
    .first<Record<string, unknown>>('state', 'held_minor', 'funded_minor');
  expect(milestoneRow).toEqual({
    state: 'PARTIALLY_FUNDED',
    held_minor: '70000',
    funded_minor: '70000',
  });
  const inbox = await ctx
    .db('inbox')
    .where({ dedupe_key: 'settlement:["stripe","ch-early","CHARGEBACK"]' })
    .first<{ outcome: string }>('outcome');
  expect(inbox).toEqual({ outcome: 'APPLIED' });
  const kept = await ctx
    .db('kept_events')
    .where({ order_id: orderId })
    .first<{ replayed_at: unknown }>('replayed_at');
  expect(kept.replayed_at).toBeInstanceOf(Date);
});

test('a chargeback after release becomes a receivable that the next release of another order nets, and a reversal pays it back', async () => {
  const providerId = 'p-netted';
  await release('o-charged', '1000.00', providerId);
  const chargeback = settlement('CHARGEBACK', 'o-charged', {
    gatewayReference: 'ch-o-charged',
    amount: '1000.00',
  });
  expect(await pipeline.deliver(chargeback)).toMatchObject({ verdict: 'APPLIED' });
  expect(await receivable(providerId)).toBe('-90000');
  const [charged] = (await ledgerOf(ctx.db, 'o-charged')).filter((t) => t.kind === 'CHARGEBACK');
  expect(charged!.entries).toEqual({
    'GATEWAY_CLEARING:USD': '100000',
    'PLATFORM_REVENUE:USD': '-10000',
    [`PROVIDER_RECEIVABLE:USD:${providerId}`]: '-90000',
  });

  // 500.00 at 10 %: net 450.00, all recovered, nothing asked.
  expect(await release('o-next', '500.00', providerId)).toBeUndefined();
  expect(await receivable(providerId)).toBe('-45000');
  const stored = await ctx
    .db('chargebacks')
    .where({ gateway_reference: 'ch-o-charged' })
    .first<Record<string, unknown>>('receivable_minor', 'recovered_minor', 'reversed');
  expect(stored).toEqual({ receivable_minor: '90000', recovered_minor: '45000', reversed: false });

  const mark = await outboxMark(ctx.db, 'o-charged');
  const reversal = settlement('CHARGEBACK_REVERSED', 'o-charged', {
    gatewayReference: 'ch-o-charged',
    amount: '1000.00',
  });
  expect(await pipeline.deliver(reversal)).toMatchObject({ verdict: 'APPLIED' });
  expect(await receivable(providerId)).toBe('0');
  const outcomes = await outboxOf(ctx.db, 'o-charged', mark);
  expect(outcomes.map((row) => row.type)).toEqual(['CHARGEBACK_REVERSED', 'PAYOUT_REQUESTED']);
  expect(outcomes[1]!.payload).toMatchObject({ netAmount: '450.00', recoveredAmount: '0.00' });
  const repaid = await disbursement(outcomes[1]!.payload.outcomeId as string);
  expect(repaid).toMatchObject({ kind: 'PAYOUT', state: 'REQUESTED', amount_minor: '45000' });
  expect(
    await ctx
      .db('chargebacks')
      .where({ gateway_reference: 'ch-o-charged' })
      .first('reversed', 'reversal_event_id'),
  ).toEqual({ reversed: true, reversal_event_id: reversal.eventId });
});

test('two releases of one provider racing on two orders net a receivable once between them', async () => {
  const providerId = 'p-race';
  await release('o-race-charged', '1000.00', providerId);
  await pipeline.deliver(
    settlement('CHARGEBACK', 'o-race-charged', {
      gatewayReference: 'ch-o-race-charged',
      amount: '1000.00',
    }),
  );
  // Two orders funded, then reached at the same moment: two transactions, two order locks.
  for (const orderId of ['o-race-a', 'o-race-b']) {
    await pipeline.deliver(openOrder(orderId, [milestone('m-1', '600.00')], { providerId }));
    await pipeline.deliver(payment(orderId, 'm-1', '600.00', `ch-${orderId}`));
  }
  const marks = await Promise.all(['o-race-a', 'o-race-b'].map((id) => outboxMark(ctx.db, id)));
  const results = await Promise.all([
    pipeline.deliver(reached('o-race-a', 'm-1')),
    pipeline.deliver(reached('o-race-b', 'm-1')),
  ]);
  expect(results.map((r) => r.verdict)).toEqual(['APPLIED', 'APPLIED']);
  const released = await Promise.all(
    ['o-race-a', 'o-race-b'].map(async (orderId, index) =>
      (await outboxOf(ctx.db, orderId, marks[index])).find(
        (row) => row.type === 'MILESTONE_RELEASED',
      )!,
    ),
  );
  // Each nets 540.00; 900.00 owed: one recovers 540.00, the other the 360.00 left.
  const recovered = released
    .map((row) => JSON.parse(row.payload.details as string) as { recoveredAmount: string })
    .map((details) => details.recoveredAmount)
    .sort();
  expect(recovered).toEqual(['360.00', '540.00']);
  expect(await receivable(providerId)).toBe('0');
  expect(
    await ctx
      .db('chargebacks')
      .where({ gateway_reference: 'ch-o-race-charged' })
      .first('recovered_minor'),
  ).toEqual({ recovered_minor: '90000' });
});
