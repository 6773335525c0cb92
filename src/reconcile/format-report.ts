/**
 * The report as a person reads it: a summary table of every check, then each
 * check that found something with its examples and what to do, then the age
 * of the funds in escrow and of what providers still owe (chargebacks after
 * release). Pure: the same report always prints the same text.
 */
import { indentLines, renderTable } from '../format/text-table';
import { durationText } from './text';
import type { CheckResult, ReconciliationReport } from './types';

const plural = (count: number, one: string, many = `${one}s`) =>
  `${count} ${count === 1 ? one : many}`;

export function formatReport(report: ReconciliationReport): string {
  const { totals, thresholds } = report;
  const failing = report.checks.filter((check) => check.status === 'discrepancy');
  const lines = [
    `Reconciliation as of ${report.generatedAt}: ` +
      (report.clean
        ? `all ${report.checks.length} checks clean`
        : `${failing.length} of ${report.checks.length} checks found discrepancies`),
    `Scanned ${plural(totals.orders, 'order')}, ${plural(totals.milestones, 'milestone')}, ` +
      `${plural(totals.payments, 'payment')}, ${plural(totals.accounts, 'account')}, ` +
      `${plural(totals.transactions, 'ledger transaction')}, ${plural(totals.entries, 'entry', 'entries')}, ` +
      `${plural(totals.disbursements, 'payout or refund request', 'payout and refund requests')}, ` +
      `${plural(totals.chargebacks, 'chargeback')}, ${plural(totals.events, 'event')} received ` +
      `in ${durationText(report.elapsedMs)}`,
    `Thresholds: unmatched after ${durationText(thresholds.unmatchedPaymentAfterMs)}, ` +
      `outbox unpublished after ${durationText(thresholds.outboxUnpublishedAfterMs)}, ` +
      `stuck funds after ${durationText(thresholds.stuckFundsAfterMs)}, ` +
      `outcomes checked for the last ${durationText(thresholds.outcomeWindowMs)}`,
    `  payouts and refunds unsettled after ${durationText(thresholds.unsettledRequestAfterMs)}, ` +
      `failed and not retried after ${durationText(thresholds.failedNotRetriedAfterMs)}, ` +
      `receivables outstanding after ${durationText(thresholds.receivableOutstandingAfterMs)}, ` +
      `refused settlements listed for the last ${durationText(thresholds.refusedSettlementWindowMs)}`,
    '',
    ...summaryTable(report.checks),
  ];
  for (const check of failing) lines.push('', ...checkDetails(check));
  const stuck = report.checks.find((check) => check.ageBuckets !== undefined)?.ageBuckets ?? [];
  lines.push(
    ...byAge(
      `Funds in escrow by age (stuck after ${durationText(thresholds.stuckFundsAfterMs)}):`,
      'MILESTONES',
      stuck.map((bucket) => ({ ...bucket, count: bucket.milestones })),
    ),
  );
  const owed =
    report.checks.find((check) => check.receivableAgeBuckets !== undefined)?.receivableAgeBuckets ??
    [];
  lines.push(
    ...byAge(
      'Provider receivables still owed, by the age of their chargeback (outstanding after ' +
        `${durationText(thresholds.receivableOutstandingAfterMs)}):`,
      'CHARGEBACKS',
      owed.map((bucket) => ({ ...bucket, count: bucket.chargebacks })),
    ),
  );
  lines.push(
    '',
    report.clean
      ? 'Result: CLEAN'
      : `Result: DISCREPANCIES (${failing.map((check) => check.name).join(', ')})`,
  );
  return `${lines.join('\n')}\n`;
}

/** A titled table of the buckets that hold something; nothing when none does. */
function byAge(
  title: string,
  counted: string,
  buckets: readonly { label: string; count: number; amounts: string[] }[],
): string[] {
  const filled = buckets.filter((bucket) => bucket.count > 0);
  if (filled.length === 0) return [];
  const table = renderTable(
    [{ title: 'AGE' }, { title: counted, align: 'right' }, { title: 'AMOUNTS' }],
    filled.map((bucket) => [bucket.label, String(bucket.count), bucket.amounts.join(', ')]),
  );
  return ['', title, ...indentLines(table)];
}

function summaryTable(checks: readonly CheckResult[]): string[] {
  const table = renderTable(
    [
      { title: 'STATUS' },
      { title: 'CHECK' },
      { title: 'FOUND', align: 'right' },
      { title: 'INVARIANT' },
    ],
    checks.map((check) => [
      check.status === 'ok' ? 'ok' : 'DISCREPANCY',
      check.name,
      String(check.count),
      check.invariant,
    ]),
  );
  return indentLines(table);
}

function checkDetails(check: CheckResult): string[] {
  const lines = [`${check.name}: ${plural(check.count, 'discrepancy', 'discrepancies')}`];
  lines.push(`  checks that ${check.description}`);
  for (const example of check.examples) {
    lines.push(`  - ${example.subject}: ${example.problem}`);
    if (example.action) lines.push(`      next step: ${example.action}`);
  }
  const unlisted = check.count - check.examples.length;
  if (unlisted > 0) {
    lines.push(`  … and ${unlisted} more not listed (raise --max-examples to list more)`);
  }
  lines.push(`  what to do: ${check.action}`);
  return lines;
}
