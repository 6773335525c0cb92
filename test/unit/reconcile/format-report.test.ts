/**
 * The human table: a summary of every check, the details of each that found
 * something (examples, what is not listed, what to do), funds by age.
 */
import { type CheckResult, formatReport, type ReconciliationReport } from '../../../src/reconcile';

const check = (name: string, count = 0, extra: Partial<CheckResult> = {}): CheckResult => ({
  name,
  invariant: `invariant of ${name}`,
  description: `${name} holds`,
  status: count === 0 ? 'ok' : 'discrepancy',
  count,
  examples: [],
  action: `fix ${name}`,
  ...extra,
});

const report = (checks: CheckResult[]): ReconciliationReport => ({
  generatedAt: '2026-06-01T09:00:00.000Z',
  clean: checks.every((c) => c.status === 'ok'),
  thresholds: {
    unmatchedPaymentAfterMs: 3_600_000,
    outboxUnpublishedAfterMs: 300_000,
    stuckFundsAfterMs: 30 * 86_400_000,
    outcomeWindowMs: 6 * 86_400_000,
    unsettledRequestAfterMs: 3 * 86_400_000,
    failedNotRetriedAfterMs: 86_400_000,
    receivableOutstandingAfterMs: 30 * 86_400_000,
    refusedSettlementWindowMs: 7 * 86_400_000,
  },
  totals: {
    orders: 1,
    milestones: 2,
    payments: 3,
    accounts: 4,
    transactions: 5,
    entries: 1,
    outboxUnpublished: 0,
    keptEventsWaiting: 0,
    disbursements: 1,
    chargebacks: 2,
    events: 9,
  },
  checks,
  elapsedMs: 1500,
});

test('a clean report: the summary, every check ok, and CLEAN', () => {
  expect(formatReport(report([check('ledger_nets_to_zero'), check('stuck_funds')]))).toBe(
    [
      'Reconciliation as of 2026-06-01T09:00:00.000Z: all 2 checks clean',
      'Scanned 1 order, 2 milestones, 3 payments, 4 accounts, 5 ledger transactions, 1 entry, ' +
        '1 payout or refund request, 2 chargebacks, 9 events received in 1s',
      'Thresholds: unmatched after 1h, outbox unpublished after 5m, stuck funds after 30d, outcomes checked for the last 6d',
      '  payouts and refunds unsettled after 3d, failed and not retried after 1d, receivables outstanding ' +
        'after 30d, refused settlements listed for the last 7d',
      '',
      '  STATUS  CHECK                FOUND  INVARIANT',
      '  ------  -------------------  -----  --------------------------------',
      '  ok      ledger_nets_to_zero      0  invariant of ledger_nets_to_zero',
      '  ok      stuck_funds              0  invariant of stuck_funds',
      '',
      'Result: CLEAN',
      '',
    ].join('\n'),
  );
});

test('discrepancies: examples with their next step, the unlisted rest, what to do, and funds by age', () => {
  const stuck = check('stuck_funds', 3, {
    examples: [
      {
        subject: 'milestone o-1/m-1',
        problem: 'DISPUTED, holds 10.00 USD disputed for 40d',
        action: 'chase the dispute desk',
        refs: { orderId: 'o-1', milestoneId: 'm-1' },
      },
    ],
    ageBuckets: [
      { label: '< 1d', fromMs: 0, toMs: 86_400_000, milestones: 0, amounts: [] },
      { label: '30d–90d', fromMs: 1, toMs: 2, milestones: 3, amounts: ['30.00 USD', '5 JPY'] },
    ],
  });
  const text = formatReport(report([check('ledger_nets_to_zero'), stuck]));
  expect(text).toContain('  DISCREPANCY  stuck_funds              3  invariant of stuck_funds\n');
  expect(text).toContain(
    [
      'stuck_funds: 3 discrepancies',
      '  checks that stuck_funds holds',
      '  - milestone o-1/m-1: DISPUTED, holds 10.00 USD disputed for 40d',
      '      next step: chase the dispute desk',
      '  … and 2 more not listed (raise --max-examples to list more)',
      '  what to do: fix stuck_funds',
      '',
      'Funds in escrow by age (stuck after 30d):',
      '  AGE      MILESTONES  AMOUNTS',
      '  -------  ----------  ----------------',
      '  30d–90d           3  30.00 USD, 5 JPY',
      '',
      'Result: DISCREPANCIES (stuck_funds)',
    ].join('\n'),
  );
  expect(text).toMatch(/^Reconciliation as of .*: 1 of 2 checks found discrepancies$/m);
});

test('receivables still owed are shown by the age of their chargeback, only the buckets that hold some', () => {
  const owed = check('receivables_outstanding', 1, {
    receivableAgeBuckets: [
      { label: '< 1d', fromMs: 0, toMs: 86_400_000, chargebacks: 2, amounts: ['450.00 USD'] },
      { label: '1d–7d', fromMs: 86_400_000, toMs: 7 * 86_400_000, chargebacks: 0, amounts: [] },
      { label: '≥ 180d', fromMs: 180 * 86_400_000, toMs: null, chargebacks: 1, amounts: ['5 JPY'] },
    ],
  });
  const text = formatReport(report([check('stuck_funds', 0, { ageBuckets: [] }), owed]));
  expect(text).toContain(
    [
      '  what to do: fix receivables_outstanding',
      '',
      'Provider receivables still owed, by the age of their chargeback (outstanding after 30d):',
      '  AGE     CHARGEBACKS  AMOUNTS',
      '  ------  -----------  ----------',
      '  < 1d              2  450.00 USD',
      '  ≥ 180d            1  5 JPY',
      '',
      'Result: DISCREPANCIES (receivables_outstanding)',
    ].join('\n'),
  );
  expect(text).not.toContain('Funds in escrow by age');
});
