/**
 * Reconciliation of what waits too long (kept payments and events, unpublished
 * outbox rows, lost outcomes, stuck funds by age), and of how the scans behave:
 * chunked scans find the same as one chunk, report progress, and a long list of
 * discrepancies is counted whole but listed short.
 */
import { allChecks, runReconciliation, type ReconcileProgress } from '../../src/reconcile';
import { useTestContext } from '../support/test-context';
import { checkNamed, failingChecks, reconcileCorrupted } from './reconciliation-corruption';
import { buildCleanState, holdingFunds, transactionOf } from './reconciliation-scenario';

const ctx = useTestContext();
beforeAll(() => buildCleanState(ctx.db, ctx.config));

const day = 24 * 3_600_000;
const hoursAgo = (hours: number) => ctx.db.raw(`now() - make_interval(hours => ?)`, [hours]);

test('payments still unmatched past the threshold, for an order never opened or a milestone it lacks', async () => {
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    await trx('payments')
      .where({ status: 'PENDING_ORDER' })
      .update({ received_at: hoursAgo(2) });
  });
  expect(failingChecks(report)).toEqual(['unmatched_payments']);
  expect(
    checkNamed(report, 'unmatched_payments').examples.map((e) => [e.subject, e.problem]),
  ).toEqual([
    [
      'payment stripe/ch-o-never-70.00 (order o-never)',
      expect.stringMatching(
        /^70\.00 USD unmatched for 2h( 0m)?: order o-never has never been opened$/,
      ) as string,
    ],
    [
      'payment stripe/ch-o-partial-30.00 (order o-partial)',
      expect.stringMatching(/: order o-partial has no milestone m-9$/) as string,
    ],
  ]);
});

test('kept events past the threshold, with a failed replay, or never replayed for an open order', async () => {
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    await trx('kept_events')
      .where({ dedupe_key: 'event:DISPUTE_OPENED-o-never' })
      .update({ received_at: hoursAgo(3) });
    await trx('kept_events')
      .where({ dedupe_key: 'payment:["stripe","ch-o-never-70.00"]' })
      .update({ failed_reason: 'replay failed: boom' });
    await trx('kept_events').where({ order_id: 'o-early' }).update({ replayed_at: null });
  });
  expect(failingChecks(report)).toEqual(['kept_events_unreplayed']);
  expect(checkNamed(report, 'kept_events_unreplayed').examples.map((e) => e.problem)).toEqual([
    expect.stringMatching(/; order o-early is open but the event was never replayed$/) as string,
    expect.stringMatching(/; its replay failed: replay failed: boom$/) as string,
    expect.stringMatching(/^kept for 3h.*; order o-never has never been opened$/) as string,
  ]);
});

test('an outbox row unpublished past the threshold', async () => {
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    const row = await trx('outbox')
      .where({ message_key: 'o-refund', type: 'FUNDS_REFUNDED' })
      .first<{ outbox_id: string }>('outbox_id');
    await trx('outbox')
      .where({ outbox_id: row.outbox_id })
      .update({ published_at: null, created_at: trx.raw(`now() - interval '10 minutes'`) });
  });
  expect(failingChecks(report)).toEqual(['outbox_unpublished']);
  expect(checkNamed(report, 'outbox_unpublished').examples[0]).toMatchObject({
    subject: expect.stringMatching(
      /^outbox row \d+ \(FUNDS_REFUNDED for order o-refund\)$/,
    ) as string,
    problem: expect.stringMatching(/^unpublished to .*escrow\.events\.v1 for 10m/) as string,
  });
});

test('a ledger transaction whose outcome was lost before it was published', async () => {
  const release = await transactionOf(ctx.db, 'o-released', 'RELEASE');
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    await trx('outbox').whereRaw(`payload->>'ledgerTransactionId' = ?`, [release]).delete();
  });
  // The release's PAYOUT_REQUESTED named the transaction too: its request lost its outcome.
  expect(failingChecks(report)).toEqual([
    'ledger_transactions_have_outcomes',
    'settlements_have_outcomes',
  ]);
  expect(checkNamed(report, 'ledger_transactions_have_outcomes').examples).toEqual([
    expect.objectContaining({ subject: `transaction ${release} (RELEASE for o-released/m-1)` }),
  ]);
});

test('funds held past the stuck threshold, by age bucket; a longer threshold finds none', async () => {
  // The scenario's payouts and refunds are never settled: only the funds are aged here.
  const later = {
    now: new Date(Date.now() + 31 * day),
    unmatchedPaymentAfterMs: 365 * day,
    unsettledRequestAfterMs: 365 * day,
  };
  const report = await runReconciliation(ctx.db, later);
  expect(failingChecks(report)).toEqual(['stuck_funds']);
  const stuck = checkNamed(report, 'stuck_funds');
  expect(stuck.examples.map((e) => e.refs.orderId).sort()).toEqual([...holdingFunds].sort());
  expect(stuck.examples.find((e) => e.refs.orderId === 'o-disputed')).toMatchObject({
    problem: expect.stringMatching(
      /^DISPUTED, holds 1000\.00 USD disputed \(d-o-disputed\) for 31d/,
    ) as string,
    action: 'chase the dispute desk for a resolution or withdrawal',
  });
  expect(stuck.ageBuckets!.filter((bucket) => bucket.milestones > 0)).toEqual([
    { label: '30d–90d', fromMs: 30 * day, toMs: 90 * day, milestones: 9, amounts: ['7900.00 USD'] },
  ]);

  const patient = await runReconciliation(ctx.db, { ...later, stuckFundsAfterMs: 45 * day });
  expect(patient.clean).toBe(true);
  expect(checkNamed(patient, 'stuck_funds').ageBuckets!.map((bucket) => bucket.label)).toEqual([
    '< 1d',
    '1d–7d',
    '7d–30d',
    '30d–45d',
    '45d–90d',
    '90d–180d',
    '≥ 180d',
  ]);
});

test('chunked scans find exactly what one chunk finds, and report progress chunk by chunk', async () => {
  const corruptStates = async (trx: Parameters<Parameters<typeof reconcileCorrupted>[1]>[0]) => {
    await trx('milestones')
      .whereIn('state', ['FUNDED', 'AWAITING_RELEASE'])
      .update({ state: 'PARTIALLY_FUNDED' });
  };
  const progress: ReconcileProgress[] = [];
  const whole = await reconcileCorrupted(ctx.db, corruptStates, { chunkSize: 10_000 });
  const chunked = await reconcileCorrupted(ctx.db, corruptStates, {
    chunkSize: 2,
    onProgress: (step) => progress.push(step),
  });
  expect(failingChecks(whole)).toEqual(['milestone_state']);
  expect(checkNamed(whole, 'milestone_state').count).toBe(7);
  expect(chunked.checks.map((c) => [c.name, c.count])).toEqual(
    whole.checks.map((c) => [c.name, c.count]),
  );
  expect(checkNamed(chunked, 'milestone_state').examples).toEqual(
    checkNamed(whole, 'milestone_state').examples,
  );

  const milestoneSteps = progress.filter((step) => step.check === 'milestone_state');
  expect(milestoneSteps.map((step) => step.done)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 17]);
  expect(milestoneSteps.every((step) => step.total === 17)).toBe(true);
  expect(new Set(progress.map((step) => step.check)).size).toBe(allChecks.length);
});

test('a long list of discrepancies is counted whole and listed up to maxExamplesPerCheck', async () => {
  const report = await reconcileCorrupted(
    ctx.db,
    async (trx) => {
      await trx('accounts').where('kind', 'ESCROW_HOLD').increment('balance_minor', 1);
    },
    { maxExamplesPerCheck: 3 },
  );
  const running = checkNamed(report, 'running_balances_match_entries');
  const holds = await ctx
    .db('accounts')
    .where('kind', 'ESCROW_HOLD')
    .count<{ n: string }[]>({ n: '*' });
  expect(running.count).toBe(Number(holds[0]!.n));
  expect(running.count).toBeGreaterThan(3);
  expect(running.examples).toHaveLength(3);
});
