/**
 * Reconciliation of chargebacks, provider receivables and gateway clearing on
 * the clean settlement story (reconcile-settlements-story.ts): each defect,
 * made through the privileged path and rolled back, is reported by exactly
 * the check that should see it, naming the provider, chargeback or order.
 */
import { accounts } from '../../src/domain/escrow';
import { useTestContext } from '../support/test-context';
import { buildSettlementStory } from './reconcile-settlements-story';
import {
  checkNamed,
  dropChecks,
  failingChecks,
  postRaw,
  reconcileCorrupted,
} from './reconciliation-corruption';

const ctx = useTestContext();
beforeAll(() => buildSettlementStory(ctx.db, ctx.config));

const corrupted = (corrupt: Parameters<typeof reconcileCorrupted>[1]) =>
  reconcileCorrupted(ctx.db, corrupt);

const day = 86_400_000;

interface ChargebackRow {
  ledger_transaction_id: string;
  reversal_ledger_transaction_id: string | null;
  event_id: string;
}
const chargebackOf = (orderId: string) =>
  ctx.db('chargebacks').where({ order_id: orderId }).first<ChargebackRow>();

test('a recovery the ledger netted but the chargeback row never recorded', async () => {
  // p-debtor's o-debt-next release netted 450.00 of the 900.00 receivable.
  const report = await corrupted(async (trx) => {
    await trx('chargebacks').where({ order_id: 'o-debt' }).update({ recovered_minor: 0 });
  });
  expect(failingChecks(report)).toEqual(['receivables_match_chargebacks']);
  expect(checkNamed(report, 'receivables_match_chargebacks').examples).toEqual([
    {
      subject: 'provider p-debtor (USD receivable)',
      problem:
        'owes 450.00 USD by the ledger but its 1 chargeback(s) leave 900.00 USD to recover; releases ' +
        'netted 450.00 USD from the receivable but the chargebacks record 0.00 USD recovered',
      refs: {
        providerId: 'p-debtor',
        currency: 'USD',
        accountCode: 'PROVIDER_RECEIVABLE:USD:p-debtor',
      },
    },
  ]);
});

test('chargeback rows whose parts or reversal disagree with their transactions', async () => {
  const held = await chargebackOf('o-cb-held');
  const won = await chargebackOf('o-won');
  const report = await corrupted(async (trx) => {
    // Recorded as partly the platform's loss although the ledger took it all from the hold.
    await trx('chargebacks')
      .where({ order_id: 'o-cb-held' })
      .update({ from_held_minor: 20000, from_platform_minor: 10000 });
    // The reversal recorded with the chargeback's own transaction.
    await trx('chargebacks')
      .where({ order_id: 'o-won' })
      .update({ reversal_ledger_transaction_id: won.ledger_transaction_id });
  });
  expect(failingChecks(report)).toEqual(['chargebacks_match_ledger']);
  expect(checkNamed(report, 'chargebacks_match_ledger').examples).toEqual([
    {
      subject: 'chargeback stripe/ch-o-cb-held (order o-cb-held, provider p-o-cb-held)',
      problem:
        'the chargeback moved hold and disputed funds -300.00 USD, the row says -200.00 USD; revenue ' +
        '0.00 USD, the row says -100.00 USD',
      refs: {
        orderId: 'o-cb-held',
        milestoneId: 'm-1',
        providerId: 'p-o-cb-held',
        gateway: 'stripe',
        gatewayReference: 'ch-o-cb-held',
        transactionId: held.ledger_transaction_id,
      },
    },
    {
      subject: 'chargeback stripe/ch-o-won (order o-won, provider p-won)',
      problem:
        `its reversal ${won.ledger_transaction_id} is a CHARGEBACK; the reversal moved gateway clearing ` +
        '1000.00 USD, the row says -1000.00 USD; revenue -100.00 USD, the row says 100.00 USD; the ' +
        "receivable -900.00 USD, the row says 720.00 USD; the provider's payable 0.00 USD, the row says " +
        '180.00 USD',
      refs: {
        orderId: 'o-won',
        milestoneId: 'm-1',
        providerId: 'p-won',
        gateway: 'stripe',
        gatewayReference: 'ch-o-won',
        transactionId: won.ledger_transaction_id,
      },
    },
  ]);
});

test('a chargeback applied twice: clearing paid back more than the chargebacks say', async () => {
  const fee = await chargebackOf('o-fee');
  const original = await ctx
    .db('ledger_transactions')
    .where({ transaction_id: fee.ledger_transaction_id })
    .first<{ memo: Record<string, string> }>();
  const report = await corrupted(async (trx) => {
    await postRaw(trx, {
      kind: 'CHARGEBACK',
      orderId: 'o-fee',
      causeEventId: fee.event_id,
      memo: original.memo,
      postings: [
        { account: accounts.gatewayClearing('USD'), minor: 2500n },
        { account: accounts.platformRevenue('USD'), minor: -2500n },
      ],
      outcome: true,
    });
  });
  expect(failingChecks(report)).toEqual(['gateway_clearing_matches_money_moved']);
  const examples = checkNamed(report, 'gateway_clearing_matches_money_moved').examples;
  expect(examples.map((example) => [example.subject, example.refs])).toEqual([
    ['gateway clearing USD', { currency: 'USD' }],
    ['order o-fee (USD through gateway clearing)', { orderId: 'o-fee', currency: 'USD' }],
  ]);
  // Where the tables say the platform's money at the gateway is, and where the ledger has it.
  expect(examples[0]!.problem).toBe(
    'holds -8175.00 USD by the ledger but -8200.00 USD by what moved through the gateway: charged ' +
      'back 3150.00 USD by the ledger, 3125.00 USD by the chargebacks. Money at the gateway for the ' +
      'platform by the tables: 8200.00 USD; the ledger holds 4100.00 USD in escrow, 0.00 USD ' +
      'disputed, 3150.00 USD provider payable (2250.00 USD in payout), 800.00 USD refund payable ' +
      '(600.00 USD in payout), 575.00 USD revenue, less 450.00 USD owed by providers',
  );
  expect(examples[1]!.problem).toBe(
    'charged back 50.00 USD by the ledger, 25.00 USD by the chargebacks',
  );
});

test('a receivable still owed past the threshold, counted in its age bucket', async () => {
  const report = await corrupted(async (trx) => {
    await trx('chargebacks')
      .where({ order_id: 'o-debt' })
      .update({ charged_back_at: trx.raw(`now() - interval '31 days 1 minute'`) });
  });
  expect(failingChecks(report)).toEqual(['receivables_outstanding']);
  const outstanding = checkNamed(report, 'receivables_outstanding');
  expect(outstanding.examples).toEqual([
    {
      subject: 'provider p-debtor (chargeback stripe/ch-o-debt, order o-debt)',
      problem: expect.stringMatching(
        /^owes 450\.00 USD of a 900\.00 USD receivable \(450\.00 USD recovered\) 31d after the chargeback \(/,
      ) as string,
      refs: {
        providerId: 'p-debtor',
        orderId: 'o-debt',
        milestoneId: 'm-1',
        gateway: 'stripe',
        gatewayReference: 'ch-o-debt',
        currency: 'USD',
      },
    },
  ]);
  expect(outstanding.receivableAgeBuckets!.filter((bucket) => bucket.chargebacks > 0)).toEqual([
    { label: '30d–90d', fromMs: 30 * day, toMs: 90 * day, chargebacks: 1, amounts: ['450.00 USD'] },
  ]);
});

test('a reversal applied twice: the receivable above zero, and every side that moved with it', async () => {
  const won = await chargebackOf('o-won');
  const reversal = await ctx
    .db('ledger_transactions')
    .where({ transaction_id: won.reversal_ledger_transaction_id })
    .first<{ cause_event_id: string; memo: Record<string, string> }>();
  const report = await corrupted(async (trx) => {
    await dropChecks(trx, 'accounts', "'PROVIDER_RECEIVABLE'");
    await postRaw(trx, {
      kind: 'CHARGEBACK_REVERSAL',
      orderId: 'o-won',
      milestoneId: 'm-1',
      causeEventId: reversal.cause_event_id,
      memo: reversal.memo,
      postings: [
        { account: accounts.gatewayClearing('USD'), minor: -100000n },
        { account: accounts.platformRevenue('USD'), minor: 10000n },
        { account: accounts.providerReceivable('USD', 'p-won'), minor: 72000n },
        { account: accounts.providerPayable('USD', 'p-won'), minor: 18000n },
      ],
      outcome: true,
    });
  });
  // Recovered more than was charged back; the receivable and clearing disagree with the
  // chargebacks, and the payable holds 180.00 that no request asks for.
  expect(failingChecks(report)).toEqual([
    'balances_not_negative',
    'payables_match_open_requests',
    'receivables_match_chargebacks',
    'gateway_clearing_matches_money_moved',
  ]);
  expect(checkNamed(report, 'balances_not_negative').examples).toEqual([
    {
      subject: 'account PROVIDER_RECEIVABLE:USD:p-won',
      problem:
        'is above zero, so more was recovered from the provider than was charged back: running balance ' +
        '720.00 USD; its entries sum to 720.00 USD; an entry left it at 720.00 USD',
      refs: { accountCode: 'PROVIDER_RECEIVABLE:USD:p-won' },
    },
  ]);
});
