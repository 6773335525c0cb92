/**
 * Reconciliation of what waits in the money loop, on the clean settlement
 * story (reconcile-settlements-story.ts), whose requests and kept settlements
 * are all fresh: a payout or refund nobody answered, a failed one nobody
 * asked for again, a settlement kept for an outcome or payment that never
 * came or whose replay was missed. Each is made by ageing or changing one
 * row through the privileged path (rolled back), and reported by exactly
 * the check that should see it, with the command that fixes it.
 */
import { useTestContext } from '../support/test-context';
import { buildSettlementStory, requestOf, unknownOutcomeId } from './reconcile-settlements-story';
import { checkNamed, failingChecks, reconcileCorrupted } from './reconciliation-corruption';

const ctx = useTestContext();
beforeAll(() => buildSettlementStory(ctx.db, ctx.config));

const corrupted = (corrupt: Parameters<typeof reconcileCorrupted>[1]) =>
  reconcileCorrupted(ctx.db, corrupt);

test('a payout requested and never answered past the unsettled threshold', async () => {
  const open = await requestOf(ctx.db, 'o-open', 'PAYOUT');
  const report = await corrupted(async (trx) => {
    await trx('disbursements')
      .where({ outcome_id: open })
      .update({ requested_at: trx.raw(`now() - interval '4 days 1 minute'`) });
  });
  expect(failingChecks(report)).toEqual(['disbursements_unsettled']);
  expect(checkNamed(report, 'disbursements_unsettled').examples).toEqual([
    {
      subject: `payout ${open} (order o-open, provider p-o-open)`,
      problem: '900.00 USD requested 4d ago; no PAYOUT_PAID or PAYOUT_FAILED has settled it',
      refs: {
        outcomeId: open,
        orderId: 'o-open',
        milestoneId: 'm-1',
        partyId: 'p-o-open',
        currency: 'USD',
      },
    },
  ]);
  // A longer threshold waits for it.
  const patient = await reconcileCorrupted(
    ctx.db,
    async (trx) => {
      await trx('disbursements')
        .where({ outcome_id: open })
        .update({ requested_at: trx.raw(`now() - interval '4 days 1 minute'`) });
    },
    { unsettledRequestAfterMs: 5 * 86_400_000 },
  );
  expect(patient.clean).toBe(true);
});

test('a failed payout and a failed refund nobody asked for again, each with its retry command', async () => {
  const payout = await requestOf(ctx.db, 'o-failed', 'PAYOUT');
  const refund = await requestOf(ctx.db, 'o-refund-fail', 'REFUND');
  const report = await corrupted(async (trx) => {
    await trx('disbursements')
      .whereIn('outcome_id', [payout, refund])
      .update({ settled_at: trx.raw(`now() - interval '2 days 1 minute'`) });
  });
  expect(failingChecks(report)).toEqual(['disbursements_failed_not_retried']);
  const examples = checkNamed(report, 'disbursements_failed_not_retried').examples;
  const byOutcome = (id: string) => examples.find((example) => example.refs.outcomeId === id);
  expect(examples).toHaveLength(2);
  expect(byOutcome(payout)).toEqual({
    subject: `payout ${payout} (order o-failed, provider p-o-failed)`,
    problem: '900.00 USD failed 2d ago (ACCOUNT_CLOSED) and was not asked for again',
    action: `escrow-worker payouts retry --outcome ${payout}`,
    refs: {
      outcomeId: payout,
      orderId: 'o-failed',
      milestoneId: 'm-1',
      partyId: 'p-o-failed',
      currency: 'USD',
    },
  });
  expect(byOutcome(refund)).toMatchObject({
    subject: `refund ${refund} (order o-refund-fail, buyer b-o-refund-fail)`,
    problem: '200.00 USD failed 2d ago (CARD_EXPIRED) and was not asked for again',
    action: `escrow-worker refunds retry --outcome ${refund}`,
  });
});

test('settlements kept past the unmatched threshold: an unknown outcome, a payment that never came', async () => {
  const report = await corrupted(async (trx) => {
    await trx('kept_events')
      .whereNull('replayed_at')
      .update({ received_at: trx.raw(`now() - interval '2 hours 10 seconds'`) });
  });
  expect(failingChecks(report)).toEqual(['settlements_kept']);
  const examples = checkNamed(report, 'settlements_kept').examples;
  expect(examples.map((example) => [example.subject, example.problem])).toEqual([
    [
      'kept settlement PAYOUT_PAID stripe/tr-unknown (order o-paid)',
      `kept for 2h for 900.00 USD; it names outcome ${unknownOutcomeId}, which no payout or refund ` +
        'request has',
    ],
    [
      'kept settlement CHARGEBACK stripe/ch-never (order o-lost)',
      'kept for 2h for 50.00 USD; payment stripe/ch-never has not arrived',
    ],
  ]);
  expect(examples[0]!.refs).toMatchObject({
    orderId: 'o-paid',
    outcomeId: unknownOutcomeId,
    awaiting: `outcome:${unknownOutcomeId}`,
    gatewayReference: 'tr-unknown',
  });
  expect(examples[1]!.refs).toMatchObject({
    orderId: 'o-lost',
    awaiting: 'payment:["stripe","ch-never"]',
    gatewayReference: 'ch-never',
  });
  expect(examples[1]!.action).toMatch(/payment confirmation .* escrow-worker dlq list/);
});

test('kept settlements whose payment or request is there, never applied: found at once', async () => {
  const open = await requestOf(ctx.db, 'o-open', 'PAYOUT');
  const report = await corrupted(async (trx) => {
    await trx('kept_events')
      .where({ order_id: 'o-early' })
      .whereNotNull('awaiting')
      .update({ replayed_at: null });
    await trx('kept_events')
      .where({ awaiting: `outcome:${unknownOutcomeId}` })
      .update({ awaiting: `outcome:${open}` });
  });
  expect(failingChecks(report)).toEqual(['settlements_kept']);
  expect(checkNamed(report, 'settlements_kept').examples).toEqual([
    expect.objectContaining({
      subject: 'kept settlement CHARGEBACK stripe/ch-o-early (order o-early)',
      problem: expect.stringMatching(
        /^kept for \S+ for 100\.00 USD; payment stripe\/ch-o-early is APPLIED but the chargeback was never replayed with it$/,
      ) as string,
      refs: expect.objectContaining({
        orderId: 'o-early',
        awaiting: 'payment:["stripe","ch-o-early"]',
      }) as Record<string, string>,
    }),
    expect.objectContaining({
      subject: 'kept settlement PAYOUT_PAID stripe/tr-unknown (order o-paid)',
      problem: expect.stringMatching(
        new RegExp(
          `; request ${open} exists \\(REQUESTED\\) but the settlement was never applied to it$`,
        ),
      ) as string,
      refs: expect.objectContaining({ outcomeId: open }) as Record<string, string>,
    }),
  ]);
});
