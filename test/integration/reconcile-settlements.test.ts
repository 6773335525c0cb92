/**
 * Reconciliation of the money loop after escrow, on a clean database built
 * through the one path (reconcile-settlements-story.ts): the whole report is
 * clean; then each defect, made through the privileged path and rolled back,
 * is reported by exactly the check that should see it, naming the request.
 * Here: payables against their open requests, requests settled at most once,
 * settlement outcomes in the outbox, settlements refused.
 */
import { accounts } from '../../src/domain/escrow';
import { allChecks, runReconciliation } from '../../src/reconcile';
import { useTestContext } from '../support/test-context';
import { buildSettlementStory, requestOf, settlement } from './reconcile-settlements-story';
import {
  checkNamed,
  dropChecks,
  failingChecks,
  postRaw,
  reconcileCorrupted,
} from './reconciliation-corruption';
import { deliverer } from './reconciliation-scenario';

const ctx = useTestContext();
beforeAll(() => buildSettlementStory(ctx.db, ctx.config));

const corrupted = (corrupt: Parameters<typeof reconcileCorrupted>[1]) =>
  reconcileCorrupted(ctx.db, corrupt);

test('the whole money loop built through the one path is clean, every check ok', async () => {
  const report = await runReconciliation(ctx.db);
  expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);
  expect(report.clean).toBe(true);
  expect(report.checks.map((check) => check.name)).toEqual(allChecks.map((check) => check.name));
  // The story has what it says: every state of a request, every source of a chargeback.
  expect(report.totals).toMatchObject({ disbursements: 13, chargebacks: 7, keptEventsWaiting: 2 });
  const states = await ctx.db('disbursements').select('kind', 'state').orderBy(['kind', 'state']);
  expect(states.map((row: { kind: string; state: string }) => `${row.kind} ${row.state}`)).toEqual([
    'PAYOUT FAILED',
    'PAYOUT PAID',
    'PAYOUT PAID',
    'PAYOUT PAID',
    'PAYOUT REQUESTED',
    'PAYOUT REQUESTED',
    'PAYOUT REQUESTED',
    'PAYOUT REQUESTED',
    'PAYOUT RETRIED',
    'REFUND FAILED',
    'REFUND PAID',
    'REFUND REQUESTED',
    'REFUND REQUESTED',
  ]);
  // What providers owe, by age: p-debtor's 900.00 receivable, 450.00 of it netted.
  const owed = checkNamed(report, 'receivables_outstanding').receivableAgeBuckets!;
  expect(owed.filter((bucket) => bucket.chargebacks > 0)).toEqual([
    { label: '< 1d', fromMs: 0, toMs: 86_400_000, chargebacks: 1, amounts: ['450.00 USD'] },
  ]);
  expect(JSON.parse(JSON.stringify(report))).toEqual(report);
});

test('a payout requested without its request row, and a request asking more than is payable', async () => {
  const lost = await requestOf(ctx.db, 'o-open', 'PAYOUT');
  const refund = await requestOf(ctx.db, 'o-cb-disputed', 'REFUND');
  const report = await corrupted(async (trx) => {
    await trx('disbursements').where({ outcome_id: lost }).delete();
    await trx('disbursements').where({ outcome_id: refund }).increment('amount_minor', 1);
  });
  expect(failingChecks(report)).toEqual(['payables_match_open_requests']);
  expect(checkNamed(report, 'payables_match_open_requests').examples).toEqual([
    {
      subject: 'buyer b-o-cb-disputed (refund payable USD)',
      problem:
        'account BUYER_REFUND_PAYABLE:USD:b-o-cb-disputed holds 300.00 USD but its 1 open refund ' +
        'request(s) ask for 300.01 USD (300.01 USD in payout, 0.00 USD failed): 0.01 USD is asked for ' +
        'beyond what is payable',
      refs: {
        partyId: 'b-o-cb-disputed',
        currency: 'USD',
        accountCode: 'BUYER_REFUND_PAYABLE:USD:b-o-cb-disputed',
      },
    },
    {
      subject: 'provider p-o-open (payable USD)',
      problem:
        'account PROVIDER_PAYABLE:USD:p-o-open holds 900.00 USD but its 0 open payout request(s) ask for ' +
        '0.00 USD (0.00 USD in payout, 0.00 USD failed): 900.00 USD is payable and asked of no one',
      refs: { partyId: 'p-o-open', currency: 'USD', accountCode: 'PROVIDER_PAYABLE:USD:p-o-open' },
    },
  ]);
});

test('one settlement applied twice: the request names its second transaction, the payable is overdrawn', async () => {
  const paid = await requestOf(ctx.db, 'o-paid', 'PAYOUT');
  const first = await ctx
    .db('ledger_transactions')
    .where({ order_id: 'o-paid', kind: 'PAYOUT_SETTLEMENT' })
    .first<{ transaction_id: string; cause_event_id: string; memo: Record<string, string> }>();
  let second = '';
  // The same PAYOUT_PAID posted again (a redelivery the inbox did not absorb).
  const report = await corrupted(async (trx) => {
    await dropChecks(trx, 'accounts', 'balance_minor >= 0');
    second = await postRaw(trx, {
      kind: 'PAYOUT_SETTLEMENT',
      orderId: 'o-paid',
      milestoneId: 'm-1',
      causeEventId: first.cause_event_id,
      memo: first.memo,
      postings: [
        { account: accounts.providerPayable('USD', 'p-o-paid'), minor: -90000n },
        { account: accounts.gatewayClearing('USD'), minor: 90000n },
      ],
      outcome: true,
    });
  });
  // Money left twice: the payable is below zero and holds less than its requests ask,
  // and clearing paid out more than the paid requests say.
  expect(failingChecks(report)).toEqual([
    'balances_not_negative',
    'payables_match_open_requests',
    'requests_settled_once',
    'gateway_clearing_matches_money_moved',
  ]);
  expect(checkNamed(report, 'requests_settled_once').examples).toEqual([
    {
      subject: `payout ${paid} (order o-paid, provider p-o-paid)`,
      problem:
        `is PAID for 900.00 USD but 2 PAYOUT_SETTLEMENT transaction(s) ` +
        `(${first.transaction_id}, ${second}) took 1800.00 USD from the provider's payable`,
      refs: {
        outcomeId: paid,
        orderId: 'o-paid',
        partyId: 'p-o-paid',
        causeEventId: first.cause_event_id,
      },
    },
  ]);
});

test('one money paid twice: a paid request asked for again and paid again', async () => {
  const first = await requestOf(ctx.db, 'o-paid', 'PAYOUT');
  const again = await requestOf(ctx.db, 'o-debt', 'PAYOUT');
  // The second request was written as a retry of the first (same root), as a retry that
  // accepted a PAID request would write it; both are paid, each by its own settlement.
  const report = await corrupted(async (trx) => {
    await trx('disbursements')
      .where({ outcome_id: again })
      .update({ root_outcome_id: first, retry_of: first });
  });
  expect(failingChecks(report)).toEqual(['requests_settled_once']);
  expect(checkNamed(report, 'requests_settled_once').examples).toEqual([
    {
      subject: `payout ${first} (order o-debt)`,
      problem: '2 requests for this money, paid 2 times (1800.00 USD in all)',
      refs: { rootOutcomeId: first, orderId: 'o-debt' },
    },
  ]);
});

test('a payout failure whose PAYOUT_FAILED outcome was lost before it was published', async () => {
  const failed = await requestOf(ctx.db, 'o-failed', 'PAYOUT');
  const report = await corrupted(async (trx) => {
    await trx('outbox').where({ message_key: 'o-failed', type: 'PAYOUT_FAILED' }).delete();
  });
  expect(failingChecks(report)).toEqual(['settlements_have_outcomes']);
  expect(checkNamed(report, 'settlements_have_outcomes').examples).toEqual([
    {
      subject: `payout ${failed} (order o-failed)`,
      problem: expect.stringMatching(
        new RegExp(
          `^changed \\S+ ago by event PAYOUT_FAILED-tr-o-failed-${failed}; no PAYOUT_FAILED outcome`,
        ),
      ) as string,
      refs: {
        orderId: 'o-failed',
        outcomeId: failed,
        causeEventId: `PAYOUT_FAILED-tr-o-failed-${failed}`,
      },
    },
  ]);
});

test('settlements refused INVALID_STATE and SETTLEMENT_MISMATCH are listed with their message', async () => {
  const paid = await requestOf(ctx.db, 'o-paid', 'PAYOUT');
  const open = await requestOf(ctx.db, 'o-open', 'PAYOUT');
  const verdicts: string[] = [];
  const report = await corrupted(async (trx) => {
    const deliver = deliverer(trx, ctx.config);
    const paidAgain = settlement('PAYOUT_PAID', 'o-paid', {
      outcomeId: paid,
      gatewayReference: 'tr-twice',
      amount: '900.00',
    });
    const short = settlement('PAYOUT_PAID', 'o-open', {
      outcomeId: open,
      gatewayReference: 'tr-short',
      amount: '899.00',
    });
    for (const command of [paidAgain, short]) verdicts.push(await deliver(command));
    // The relay published the refusals.
    await trx('outbox').whereNull('published_at').update({ published_at: trx.fn.now() });
  });
  expect(verdicts).toEqual(['REJECTED', 'REJECTED']);
  expect(failingChecks(report)).toEqual(['settlements_refused']);
  const examples = checkNamed(report, 'settlements_refused').examples;
  expect(examples.map((example) => [example.subject, example.refs])).toEqual([
    [
      'PAYOUT_PAID stripe/tr-short (order o-open)',
      expect.objectContaining({ reason: 'SETTLEMENT_MISMATCH', gatewayReference: 'tr-short' }),
    ],
    [
      'PAYOUT_PAID stripe/tr-twice (order o-paid)',
      expect.objectContaining({ reason: 'INVALID_STATE', orderId: 'o-paid', type: 'PAYOUT_PAID' }),
    ],
  ]);
  expect(examples[0]!.problem).toMatch(
    new RegExp(
      `^refused SETTLEMENT_MISMATCH .* ago .*is for 899\\.00 USD, but PAYOUT_REQUESTED ${open} asked for 900\\.00 USD`,
    ),
  );
  expect(examples[1]!.problem).toContain(`PAYOUT_REQUESTED ${paid} is PAID already`);
  expect(examples[1]!.action).toMatch(/if the money left twice, recover it/);
  // Outside the window they are no longer listed.
  const later = await reconcileCorrupted(ctx.db, async (trx) => {
    const deliver = deliverer(trx, ctx.config);
    await deliver(
      settlement('PAYOUT_PAID', 'o-paid', {
        outcomeId: paid,
        gatewayReference: 'tr-x',
        amount: '900.00',
      }),
    );
    await trx('inbox')
      .where('dedupe_key', 'like', '%tr-x%')
      .update({
        received_at: trx.raw(`now() - interval '8 days'`),
      });
    await trx('outbox').whereNull('published_at').update({ published_at: trx.fn.now() });
  });
  expect(later.clean).toBe(true);
});
