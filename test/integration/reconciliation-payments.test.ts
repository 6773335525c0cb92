/**
 * Reconciliation of payments and account balances: each corruption, made on
 * purpose through the privileged path and rolled back, is reported by exactly
 * the checks that should see it.
 */
import { accounts } from '../../src/domain/escrow';
import { useTestContext } from '../support/test-context';
import {
  checkNamed,
  dropChecks,
  failingChecks,
  postRaw,
  reconcileCorrupted,
} from './reconciliation-corruption';
import { buildCleanState, transactionOf } from './reconciliation-scenario';

const ctx = useTestContext();
beforeAll(() => buildCleanState(ctx.db, ctx.config));

const corrupted = (corrupt: Parameters<typeof reconcileCorrupted>[1]) =>
  reconcileCorrupted(ctx.db, corrupt);

test('payment rows that disagree with their receipts in the ledger', async () => {
  const release = await transactionOf(ctx.db, 'o-released', 'RELEASE');
  const report = await corrupted(async (trx) => {
    const payment = (reference: string) => trx('payments').where({ gateway_reference: reference });
    await payment('ch-o-overpaid-1200.00').update({ applied_minor: 110000, refunded_minor: 10000 });
    await payment('ch-o-partial-400.00').update({ ledger_transaction_id: release });
    await payment('ch-o-funded-1000.00').update({ status: 'REFUNDED' });
  });
  expect(failingChecks(report)).toEqual(['payments_in_ledger_once']);
  expect(
    checkNamed(report, 'payments_in_ledger_once').examples.map((e) => [e.subject, e.problem]),
  ).toEqual([
    [
      'payment stripe/ch-o-partial-400.00 (order o-partial)',
      `its ledger_transaction_id ${release} names none of its receipts`,
    ],
    [
      'payment stripe/ch-o-funded-1000.00 (order o-funded)',
      'status REFUNDED with 0.00 USD of 1000.00 USD refunded',
    ],
    [
      'payment stripe/ch-o-overpaid-1200.00 (order o-overpaid)',
      'the row splits it applied 1100.00 USD / refunded 100.00 USD, the ledger 1000.00 USD / 200.00 USD',
    ],
  ]);
});

test('a payment applied twice: its second receipt shows on the payment, the milestone and the outbox', async () => {
  const funding = await transactionOf(ctx.db, 'o-partial', 'FUNDING');
  const first = await ctx.db('ledger_transactions').where({ transaction_id: funding }).first<{
    cause_event_id: string;
    memo: Record<string, string>;
  }>();
  const report = await corrupted(async (trx) => {
    await postRaw(trx, {
      kind: 'FUNDING',
      orderId: 'o-partial',
      milestoneId: 'm-1',
      causeEventId: first.cause_event_id,
      memo: first.memo,
      postings: [
        { account: accounts.gatewayClearing('USD'), minor: -40000n },
        { account: accounts.escrowHold('USD', 'o-partial', 'm-1'), minor: 40000n },
      ],
      outcome: false,
    });
  });
  // Clearing gave 400.00 USD more than the payments table says was received.
  expect(failingChecks(report)).toEqual([
    'milestone_matches_ledger',
    'payments_in_ledger_once',
    'gateway_clearing_matches_money_moved',
    'ledger_transactions_have_outcomes',
  ]);
  expect(checkNamed(report, 'payments_in_ledger_once').examples[0]!.problem).toBe(
    'APPLIED for 400.00 USD but received 800.00 USD in 2 ledger transactions; the row splits it ' +
      'applied 400.00 USD / refunded 0.00 USD, the ledger 800.00 USD / 0.00 USD',
  );
});

test('money received from clearing for a payment that has no row', async () => {
  const serviceFee = await transactionOf(ctx.db, 'o-fee', 'SERVICE_FEE');
  const report = await corrupted(async (trx) => {
    await trx('payments').where({ gateway_reference: 'ch-o-fee-25.00' }).delete();
  });
  expect(failingChecks(report)).toEqual([
    'ledger_receipts_name_a_payment',
    'gateway_clearing_matches_money_moved',
  ]);
  expect(checkNamed(report, 'ledger_receipts_name_a_payment').examples).toEqual([
    {
      subject: `transaction ${serviceFee} (SERVICE_FEE, order o-fee)`,
      problem:
        'received 25.00 USD from gateway clearing for payment stripe/ch-o-fee-25.00, which has no payment row',
      refs: {
        transactionId: serviceFee,
        orderId: 'o-fee',
        gateway: 'stripe',
        gatewayReference: 'ch-o-fee-25.00',
      },
    },
  ]);
});

test('a payable taken below zero (its CHECK dropped), balances kept consistently', async () => {
  const report = await corrupted(async (trx) => {
    await dropChecks(trx, 'accounts', 'balance_minor >= 0');
    await postRaw(trx, {
      kind: 'PAYOUT_CORRECTION',
      causeEventId: 'manual-1',
      postings: [
        { account: accounts.providerPayable('USD', 'provider-o-released'), minor: -95000n },
        { account: accounts.platformRevenue('USD'), minor: 95000n },
      ],
      outcome: true,
    });
  });
  // The payable no longer holds what its open PAYOUT_REQUESTED asks for.
  expect(failingChecks(report)).toEqual(['balances_not_negative', 'payables_match_open_requests']);
  expect(checkNamed(report, 'balances_not_negative').examples).toEqual([
    {
      subject: 'account PROVIDER_PAYABLE:USD:provider-o-released',
      problem:
        'is negative: running balance -50.00 USD; its entries sum to -50.00 USD; an entry left it at -50.00 USD',
      refs: { accountCode: 'PROVIDER_PAYABLE:USD:provider-o-released' },
    },
  ]);
});

test('a payable that went below zero and was made good later still shows, by the entry', async () => {
  const payable = accounts.providerPayable('USD', 'provider-o-released');
  const revenue = accounts.platformRevenue('USD');
  const report = await corrupted(async (trx) => {
    await dropChecks(trx, 'accounts', 'balance_minor >= 0');
    for (const [from, to] of [
      [payable, revenue],
      [revenue, payable],
    ] as const) {
      await postRaw(trx, {
        kind: 'PAYOUT_CORRECTION',
        causeEventId: 'manual-3',
        postings: [
          { account: from, minor: -95000n },
          { account: to, minor: 95000n },
        ],
        outcome: true,
      });
    }
  });
  expect(failingChecks(report)).toEqual(['balances_not_negative']);
  expect(checkNamed(report, 'balances_not_negative').examples[0]!.problem).toBe(
    'is negative: an entry left it at -50.00 USD',
  );
});

test('a running balance changed outside the ledger service', async () => {
  const report = await corrupted(async (trx) => {
    await trx('accounts')
      .where({ code: 'ESCROW_HOLD:USD:o-funded:m-1' })
      .increment('balance_minor', 50000);
  });
  expect(failingChecks(report)).toEqual(['running_balances_match_entries']);
  expect(checkNamed(report, 'running_balances_match_entries').examples[0]!.problem).toBe(
    'running balance 1500.00 USD but its entries sum to 1000.00 USD; its last entry recorded 1000.00 USD at version 1',
  );
});

test('escrow money for a milestone that does not exist', async () => {
  const report = await corrupted(async (trx) => {
    await postRaw(trx, {
      kind: 'CORRECTION',
      causeEventId: 'manual-2',
      postings: [
        { account: accounts.platformRevenue('USD'), minor: -500n },
        { account: accounts.escrowHold('USD', 'o-ghost', 'm-1'), minor: 500n },
      ],
      outcome: true,
    });
  });
  expect(failingChecks(report)).toEqual(['orphaned_escrow_accounts']);
  expect(checkNamed(report, 'orphaned_escrow_accounts').examples[0]).toMatchObject({
    subject: 'account ESCROW_HOLD:USD:o-ghost:m-1',
    problem:
      'belongs to milestone o-ghost/m-1, which does not exist; it holds 5.00 USD in 1 entries',
  });
});
