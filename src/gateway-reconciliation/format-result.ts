/**
 * A gateway reconciliation for people (aligned tables: the counts, the
 * differences up to a limit per kind, totals per type, the nets) and for
 * machines (one JSON document with every difference, written as they are
 * read, so a million differences never sit in memory). Amounts are exact,
 * in the currency's digits.
 */
import { renderTable } from '../format/text-table';
import { durationText } from '../reconcile';
import { amountText } from '../reconcile/text';
import type { GatewaySummary } from './run';
import type { GatewayDifference } from './summarize';

const kindTitles: Record<GatewayDifference['kind'], string> = {
  only_in_file: 'only in the file',
  only_in_ledger: 'only in the ledger',
  amount_differs: 'amount or currency differs',
  twice_in_file: 'twice in the file',
};

export function summaryHeader(summary: GatewaySummary): string[] {
  const { counts, lines, window } = summary;
  return [
    `gateway ${summary.gateway}: ${summary.file} (${summary.format} format)`,
    `window ${window.from} .. ${window.to}; counterparts looked for ${durationText(window.toleranceMs)} ` +
      'beyond each edge, and items out there never reported missing',
    `lines read ${lines.linesRead} (${lines.skipped} not reconciled movements, skipped)`,
    `matched ${counts.matched}, only in the file ${counts.only_in_file}, only in the ledger ` +
      `${counts.only_in_ledger}, amount or currency differs ${counts.amount_differs}, twice in the ` +
      `file ${counts.twice_in_file}`,
  ];
}

export function differenceRow(difference: GatewayDifference): string[] {
  const { file, ledger } = difference;
  return [
    kindTitles[difference.kind],
    difference.type,
    difference.gatewayReference,
    file ? amountText(file.amountMinor, file.currency) : '-',
    file ? file.lines.join(',') : '-',
    ledger ? amountText(ledger.amountMinor, ledger.currency) : '-',
    ledger ? `${ledger.orderId ?? '-'} / tx ${ledger.transactionId}` : '-',
    difference.note ?? '',
  ];
}

export function differencesTable(rows: readonly string[][], recorded: boolean): string[] {
  return renderTable(
    [
      ...(recorded ? [{ title: 'id', align: 'right' as const }, { title: 'seen' }] : []),
      { title: 'difference' },
      { title: 'type' },
      { title: 'reference' },
      { title: 'file', align: 'right' },
      { title: 'lines' },
      { title: 'ledger', align: 'right' },
      { title: 'order / transaction' },
      { title: 'note' },
    ],
    rows,
  );
}

export function summaryFooter(summary: GatewaySummary, unexplained: number): string[] {
  const totals = renderTable(
    [
      { title: 'currency' },
      { title: 'type' },
      { title: 'file items', align: 'right' },
      { title: 'file amount', align: 'right' },
      { title: 'ledger items', align: 'right' },
      { title: 'ledger amount', align: 'right' },
    ],
    summary.totals.map((total) => [
      total.currency,
      total.type,
      String(total.fileItems),
      amountText(total.fileMinor, total.currency),
      String(total.ledgerItems),
      amountText(total.ledgerMinor, total.currency),
    ]),
  );
  const nets = renderTable(
    [
      { title: 'currency' },
      { title: 'file net', align: 'right' },
      { title: 'ledger clearing net', align: 'right' },
      { title: 'difference', align: 'right' },
      { title: 'by the differences', align: 'right' },
      { title: 'by items near the edges', align: 'right' },
    ],
    summary.nets.map((net) => [
      net.currency,
      amountText(net.fileNetMinor, net.currency),
      amountText(net.ledgerNetMinor, net.currency),
      amountText(net.differenceMinor, net.currency),
      amountText(net.explainedByDifferencesMinor, net.currency),
      amountText(net.explainedByEdgesMinor, net.currency),
    ]),
  );
  return [
    '',
    'totals inside the window',
    ...totals,
    '',
    'net (money in less money out) against the ledger’s gateway-clearing movement',
    ...nets,
    '',
    summary.differences === 0
      ? 'everything matches'
      : unexplained === 0
        ? `every one of the ${summary.differences} difference(s) is explained`
        : `${unexplained} difference(s) to look into: see docs/runbook.md, "Gateway reconciliation"`,
  ];
}

/** The summary as JSON, without its closing brace: the differences array is written after it. */
export function jsonOpening(summary: GatewaySummary, extra: Record<string, unknown> = {}): string {
  const head = JSON.stringify({ ...summary, ...extra, clean: summary.differences === 0 });
  return `${head.slice(0, -1)},"differenceList":[`;
}
