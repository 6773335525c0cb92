/**
 * The report as a person reads it: a summary table of every check, then each
 * check that found something with its examples and what to do, then the age
 * of the funds in escrow. Pure: the same report always prints the same text.
 */
import { durationText } from './text';
import type { CheckResult, ReconciliationReport } from './types';

const pad = (text: string, width: number) => text.padEnd(width);
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
    const labelWidth = Math.max(...held.map((bucket) => bucket.label.length));
    const counts = held.map((bucket) => plural(bucket.milestones, 'milestone'));
    const countWidth = Math.max(...counts.map((count) => count.length));
    held.forEach((bucket, index) => {
      lines.push(
        `  ${pad(bucket.label, labelWidth)}  ${pad(counts[index]!, countWidth)}  ${bucket.amounts.join(', ')}`,
      );
    });
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
  const nameWidth = Math.max(5, ...checks.map((check) => check.name.length));
  const header = `  ${pad('STATUS', 12)} ${pad('CHECK', nameWidth)}  ${'FOUND'.padStart(7)}  INVARIANT`;
  return [
    header,
    ...checks.map(
      (check) =>
        `  ${pad(check.status === 'ok' ? 'ok' : 'DISCREPANCY', 12)} ${pad(check.name, nameWidth)}  ` +
        `${String(check.count).padStart(7)}  ${check.invariant}`,
    ),
  ];
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
