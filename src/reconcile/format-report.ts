/**
 * The report as a person reads it: a summary table of every check, then each
 * check that found something with its examples and what to do, then the age
 * of the funds in escrow. Pure: the same report always prints the same text.
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
      `${plural(totals.transactions, 'ledger transaction')}, ${plural(totals.entries, 'entry', 'entries')} ` +
      `in ${durationText(report.elapsedMs)}`,
    `Thresholds: unmatched after ${durationText(thresholds.unmatchedPaymentAfterMs)}, ` +
      `outbox unpublished after ${durationText(thresholds.outboxUnpublishedAfterMs)}, ` +
      `stuck funds after ${durationText(thresholds.stuckFundsAfterMs)}, ` +
      `outcomes checked for the last ${durationText(thresholds.outcomeWindowMs)}`,
    '',
    ...summaryTable(report.checks),
  ];
  for (const check of failing) lines.push('', ...checkDetails(check));
  const stuck = report.checks.find((check) => check.ageBuckets !== undefined);
  if (stuck?.ageBuckets && stuck.ageBuckets.some((bucket) => bucket.milestones > 0)) {
    lines.push(
      '',
      `Funds in escrow by age (stuck after ${durationText(thresholds.stuckFundsAfterMs)}):`,
    );
    const held = stuck.ageBuckets.filter((bucket) => bucket.milestones > 0);
    const table = renderTable(
      [{ title: 'AGE' }, { title: 'MILESTONES', align: 'right' }, { title: 'AMOUNTS' }],
      held.map((bucket) => [bucket.label, String(bucket.milestones), bucket.amounts.join(', ')]),
    );
    lines.push(...indentLines(table));
  }
  lines.push(
    '',
    report.clean
      ? 'Result: CLEAN'
      : `Result: DISCREPANCIES (${failing.map((check) => check.name).join(', ')})`,
  );
  return `${lines.join('\n')}\n`;
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
