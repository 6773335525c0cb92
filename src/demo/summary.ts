/**
 * The end of the story in numbers: the order's totals, the escrow identity
 * of DESIGN.md (funded = held + disputed + released + refunded, and released
 * = fees + net) shown with its figures, and the order's ledger netting to
 * zero. Exact: amounts are read into bigint minor units and summed as such.
 */
import type { Knex } from 'knex';
import { compare, formatAmount, type Money, parseAmount, subtract, sum } from '../domain/money';
import { formatReport, runReconciliation } from '../reconcile';
import type { LedgerTransactionView, OrderView } from '../views/order-view';
import { renderTable } from '../format/text-table';

type Column = 'funded' | 'held' | 'disputed' | 'released' | 'fees' | 'refunded';

export interface OrderTotals {
  readonly totals: Readonly<Record<Column, Money>>;
  /** funded = held + disputed + released + refunded, for the whole order. */
  readonly balanced: boolean;
  /** Each of the order's ledger transactions nets to zero per currency, so the whole does too. */
  readonly ledgerNetsToZero: boolean;
}

export function orderTotals(
  view: OrderView,
  ledger: readonly LedgerTransactionView[],
): OrderTotals {
  const total = (column: Column) =>
    sum(
      view.currency,
      view.milestones.map((m) => parseAmount(m[column], view.currency, { allowZero: true })),
    );
  const totals = {
    funded: total('funded'),
    held: total('held'),
    disputed: total('disputed'),
    released: total('released'),
    fees: total('fees'),
    refunded: total('refunded'),
  };
  const accounted = sum(view.currency, [
    totals.held,
    totals.disputed,
    totals.released,
    totals.refunded,
  ]);
  // Each transaction nets to zero per currency; then so does the order's whole ledger.
  const ledgerNetsToZero = ledger.every((transaction) => {
    const net = new Map<string, bigint>();
    for (const entry of transaction.entries) {
      const amount = parseAmount(entry.amount, entry.currency, {
        allowZero: true,
        allowNegative: true,
      });
      net.set(entry.currency, (net.get(entry.currency) ?? 0n) + amount.minor);
    }
    return [...net.values()].every((value) => value === 0n);
  });
  return {
    totals,
    balanced: compare(totals.funded, accounted) === 0,
    ledgerNetsToZero,
  };
}

export function summaryLines(
  view: OrderView,
  ledger: readonly LedgerTransactionView[],
  result: OrderTotals,
): string[] {
  const { totals } = result;
  const f = formatAmount;
  const net = subtract(totals.released, totals.fees);
  const rows = [
    ['funded', f(totals.funded), 'paid in by the buyer and put in escrow'],
    ['held', f(totals.held), 'still in escrow'],
    ['disputed', f(totals.disputed), 'frozen by open disputes'],
    [
      'released',
      f(totals.released),
      `to the provider, gross: fees ${f(totals.fees)} + net ${f(net)}`,
    ],
    ['refunded', f(totals.refunded), 'back to the buyer'],
  ];
  const entries = ledger.reduce((count, transaction) => count + transaction.entries.length, 0);
  return [
    ...renderTable(
      [
        { title: `order ${view.orderId} (${view.currency})` },
        { title: 'total', align: 'right' },
        { title: '' },
      ],
      rows,
    ),
    '',
    `funded = held + disputed + released + refunded: ${f(totals.funded)} = ${f(totals.held)} + ` +
      `${f(totals.disputed)} + ${f(totals.released)} + ${f(totals.refunded)} -> ${String(result.balanced)}`,
    `ledger: ${ledger.length} transactions, ${entries} entries, ` +
      `every transaction and the whole ledger net to zero -> ${String(result.ledgerNetsToZero)}`,
  ];
}

/**
 * The reconciliation report `npm run reconcile` prints, over the whole
 * database the demo used (with DATABASE_URL set, that includes other data).
 */
export async function reconciliationLines(db: Knex): Promise<{ clean: boolean; lines: string[] }> {
  const report = await runReconciliation(db);
  return { clean: report.clean, lines: formatReport(report).trimEnd().split('\n') };
}
