/**
 * Reconciliation against a real database: a clean state built from real
 * events is clean; then, for each check, the database is corrupted on purpose
 * (superuser, replica role, rolled back afterwards) and exactly the checks
 * that should see it report it, in numbers.
 */
import { linkIntoChain } from '../support/ledger-chain';
import { allChecks, runReconciliation } from '../../src/reconcile';
import { useTestContext } from '../support/test-context';
import {
  checkNamed,
  dropChecks,
  failingChecks,
  reconcileCorrupted,
} from './reconciliation-corruption';
import { buildCleanState, holdingFunds, transactionOf } from './reconciliation-scenario';

const ctx = useTestContext();
beforeAll(() => buildCleanState(ctx.db, ctx.config));

const corrupted = (corrupt: Parameters<typeof reconcileCorrupted>[1]) =>
  reconcileCorrupted(ctx.db, corrupt);

test('the clean state built from real events is clean, and the report is plain JSON', async () => {
  const report = await runReconciliation(ctx.db);
  expect(failingChecks(report)).toEqual([]);
  expect(report.clean).toBe(true);
  expect(report.checks).toHaveLength(allChecks.length);
  expect(report.totals).toMatchObject({ orders: 16, milestones: 17, payments: 18 });
  expect(report.totals.entries).toBeGreaterThan(2 * 20);
  expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  // Every milestone holding funds, all fresh, in the first age bucket.
  const buckets = checkNamed(report, 'stuck_funds').ageBuckets!;
  expect(buckets[0]).toMatchObject({ label: '< 1d', milestones: holdingFunds.length });
  expect(buckets[0]!.amounts).toEqual(['7900.00 USD']);
});

test('an unbalanced transaction: transactions_net_to_zero names it, ledger_nets_to_zero the total', async () => {
  const serviceFee = await transactionOf(ctx.db, 'o-fee', 'SERVICE_FEE');
  const report = await corrupted(async (trx) => {
    const revenue = await trx('accounts')
      .where({ code: 'PLATFORM_REVENUE:USD' })
      .first<{ account_id: string }>();
    await trx('ledger_entries').insert({
      transaction_id: serviceFee,
      account_id: revenue.account_id,
      currency: 'USD',
      amount_minor: '1',
    });
  });
  // An entry added to a written transaction also breaks its hash.
  expect(failingChecks(report)).toEqual([
    'transactions_net_to_zero',
    'ledger_nets_to_zero',
    'ledger_chain_intact',
  ]);
  expect(checkNamed(report, 'transactions_net_to_zero').examples).toEqual([
    expect.objectContaining({
      subject: `transaction ${serviceFee} (SERVICE_FEE for o-fee/-)`,
      problem: expect.stringContaining('sum to 0.01 USD, not zero') as string,
    }),
  ]);
  expect(checkNamed(report, 'ledger_nets_to_zero').examples[0]!.problem).toBe(
    'all USD entries sum to 0.01 USD, not zero',
  );
});

test('a ledger transaction without entries, and without an outcome', async () => {
  const report = await corrupted(async (trx) => {
    // Written as the ledger service would, chained, but without entries.
    const [ghost] = await trx('ledger_transactions')
      .insert({
        kind: 'RELEASE',
        order_id: 'o-funded',
        milestone_id: 'm-1',
        cause_event_id: 'ghost',
        cause_topic: 't',
        previous_hash: '',
        hash: '0'.repeat(64),
      })
      .returning<{ transaction_id: string }[]>('transaction_id');
    await linkIntoChain(trx, ghost!.transaction_id);
  });
  expect(failingChecks(report)).toEqual([
    'transactions_net_to_zero',
    'ledger_transactions_have_outcomes',
  ]);
  expect(checkNamed(report, 'transactions_net_to_zero').examples[0]!.problem).toMatch(
    /has no entries/,
  );
});

test('milestone rows that do not conserve their funding (CHECKs dropped)', async () => {
  const report = await corrupted(async (trx) => {
    await dropChecks(trx, 'milestones', 'funded_minor =');
    await dropChecks(trx, 'milestones', 'fees_minor <=');
    await trx('milestones').where({ order_id: 'o-partial' }).increment('funded_minor', 10000);
    await trx('milestones').where({ order_id: 'o-released' }).update({ fees_minor: 100001 });
  });
  expect(failingChecks(report)).toEqual(['milestone_conservation', 'milestone_matches_ledger']);
  expect(
    checkNamed(report, 'milestone_conservation').examples.map((e) => [e.subject, e.problem]),
  ).toEqual([
    [
      'milestone o-partial/m-1',
      expect.stringContaining('funded 500.00 USD ≠ held 400.00 USD') as string,
    ],
    ['milestone o-released/m-1', 'fees 1000.01 USD exceed released 1000.00 USD'],
  ]);
});

test('a milestone row whose totals still conserve but disagree with the ledger', async () => {
  const report = await corrupted(async (trx) => {
    await trx('milestones')
      .where({ order_id: 'o-awaiting' })
      .update({ held_minor: 90000, refunded_minor: 10000 });
  });
  expect(failingChecks(report)).toEqual(['milestone_matches_ledger']);
  expect(checkNamed(report, 'milestone_matches_ledger').examples).toEqual([
    {
      subject: 'milestone o-awaiting/m-1',
      problem:
        'held 900.00 USD but the ledger says 1000.00 USD; refunded 100.00 USD but the ledger says 0.00 USD',
      refs: { orderId: 'o-awaiting', milestoneId: 'm-1' },
    },
  ]);
});

test('milestone states their totals do not explain', async () => {
  const report = await corrupted(async (trx) => {
    await trx('milestones').where({ order_id: 'o-funded' }).update({ state: 'PARTIALLY_FUNDED' });
    await trx('milestones').where({ order_id: 'o-partial' }).update({ state: 'RELEASED' });
    await trx('orders').where({ order_id: 'o-withdrawn' }).update({ state: 'CANCELLED' });
  });
  expect(failingChecks(report)).toEqual(['milestone_state']);
  const problems = checkNamed(report, 'milestone_state').examples.map((e) => [
    e.subject,
    e.problem,
  ]);
  expect(problems).toEqual([
    [
      'milestone o-funded/m-1',
      expect.stringMatching(/^is PARTIALLY_FUNDED but its totals make it FUNDED/) as string,
    ],
    [
      'milestone o-partial/m-1',
      'is RELEASED yet holds 400.00 USD and 0.00 USD disputed; is RELEASED but released nothing',
    ],
    ['milestone o-withdrawn/m-1', 'is FUNDED in a cancelled order'],
  ]);
});

test('the fee read model (releases) disagreeing with the ledger', async () => {
  const release = await transactionOf(ctx.db, 'o-released', 'RELEASE');
  const resolution = await transactionOf(ctx.db, 'o-resolved', 'DISPUTE_RESOLUTION');
  const report = await corrupted(async (trx) => {
    await trx('releases').where({ transaction_id: release }).increment('fee_minor', 1);
    await trx('releases').where({ transaction_id: resolution }).delete();
  });
  expect(failingChecks(report)).toEqual(['releases_match_ledger']);
  expect(checkNamed(report, 'releases_match_ledger').examples.map((e) => e.problem)).toEqual([
    'the releases row says gross 1000.00 USD, fee 100.01 USD; the ledger credited 1000.00 USD (net 900.00 USD + fee 100.00 USD)',
    'the ledger credited 600.00 USD (net 540.00 USD + fee 60.00 USD) but it has no releases row',
  ]);
});
