/**
 * Invariant 6 of DESIGN.md, last part: gateway clearing equals money received
 * minus money paid out and refunded (and charged back, plus what reversals
 * brought back). Each side is computed on its own, per currency:
 *  - the ledger: GATEWAY_CLEARING's entries by transaction kind — payment
 *    receipts (FUNDING, SERVICE_FEE, OVERPAYMENT_REFUND, CURRENCY_MISMATCH_
 *    REFUND) take money from it, PAYOUT_SETTLEMENT / REFUND_SETTLEMENT /
 *    CHARGEBACK put money back, CHARGEBACK_REVERSAL takes it again; no other
 *    kind touches it;
 *  - the tables: payments applied or refunded (received), disbursements
 *    PAID (paid out, refunded), chargebacks (charged back; reversed).
 * Clearing is negative by design (it mirrors what the platform holds), so the
 * money at the gateway that is the platform's to account for is −clearing =
 * received − paid out − refunded − charged back + reversed; the finding shows
 * where the ledger puts that money (held, disputed, payable — of which in
 * payout —, refund payable, revenue, less what providers owe), so none of it
 * is nowhere. A currency that differs is drilled down to the orders whose two
 * sides differ.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';
import { clearingAccountIds, receiptKinds } from './receipts';

const components = ['received', 'paidOut', 'refunded', 'chargedBack', 'reversed', 'other'] as const;
type Component = (typeof components)[number];
type Sides = Record<Component, bigint>;

const labels: Record<Component, string> = {
  received: 'received',
  paidOut: 'paid out',
  refunded: 'refunded',
  chargedBack: 'charged back',
  reversed: 'reversed',
  other: 'moved by other kinds',
};

/** Clearing entries as components, by transaction kind (signs turned so that each is positive). */
const ledgerComponentsSql = `
  -coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ${receiptKinds}), 0) AS received,
  coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'PAYOUT_SETTLEMENT'), 0) AS "paidOut",
  coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'REFUND_SETTLEMENT'), 0) AS refunded,
  coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'CHARGEBACK'), 0) AS "chargedBack",
  -coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'CHARGEBACK_REVERSAL'), 0) AS reversed,
  coalesce(sum(e.amount_minor) FILTER (WHERE t.kind NOT IN ${receiptKinds} AND t.kind NOT IN
    ('PAYOUT_SETTLEMENT', 'REFUND_SETTLEMENT', 'CHARGEBACK', 'CHARGEBACK_REVERSAL')), 0) AS other`;

/** The same components from the payments, disbursements and chargebacks tables, per currency (and order). */
const tableComponentsSql = (byOrder: boolean) => `
  SELECT ${byOrder ? 'order_id, ' : ''}trim(currency) AS currency, sum(received) AS received,
    sum("paidOut") AS "paidOut", sum(refunded) AS refunded, sum("chargedBack") AS "chargedBack",
    sum(reversed) AS reversed, 0 AS other
  FROM (
    SELECT order_id, currency, amount_minor AS received, 0 AS "paidOut", 0 AS refunded,
      0 AS "chargedBack", 0 AS reversed
    FROM payments WHERE status IN ('APPLIED', 'REFUNDED')
    UNION ALL
    SELECT order_id, currency, 0, CASE kind WHEN 'PAYOUT' THEN amount_minor ELSE 0 END,
      CASE kind WHEN 'REFUND' THEN amount_minor ELSE 0 END, 0, 0
    FROM disbursements WHERE state = 'PAID'
    UNION ALL
    SELECT order_id, currency, 0, 0, 0, amount_minor, CASE WHEN reversed THEN amount_minor ELSE 0 END
    FROM chargebacks) AS moved
  GROUP BY ${byOrder ? 'order_id, ' : ''}trim(currency)`;

type ComponentRow = { currency: string } & Record<Component, string>;

const toSides = (row: ComponentRow | undefined): Sides =>
  Object.fromEntries(components.map((c) => [c, BigInt(row?.[c] ?? 0)])) as Sides;

/** What clearing holds by these figures: −received + paid out + refunded + charged back − reversed + other. */
const clearingOf = (sides: Sides) =>
  -sides.received +
  sides.paidOut +
  sides.refunded +
  sides.chargedBack -
  sides.reversed +
  sides.other;

function differences(currency: string, ledger: Sides, tables: Sides): string[] {
  const text = (minor: bigint) => amountText(minor, currency);
  return components
    .filter((c) => ledger[c] !== tables[c])
    .map((c) =>
      c === 'other'
        ? `${labels[c]} ${text(ledger[c])} (only receipts and settlements touch clearing)`
        : `${labels[c]} ${text(ledger[c])} by the ledger, ${text(tables[c])} by the ${tableOf[c]}`,
    );
}

const tableOf: Record<Component, string> = {
  received: 'payments',
  paidOut: 'paid payouts',
  refunded: 'paid refunds',
  chargedBack: 'chargebacks',
  reversed: 'reversed chargebacks',
  other: '-',
};

export const gatewayClearingMatchesMoneyMoved: Check = {
  name: 'gateway_clearing_matches_money_moved',
  invariant:
    'DESIGN.md invariant 6: gateway clearing equals money received minus money paid out and refunded',
  description:
    "gateway clearing's balance, and each part of it by transaction kind, equals what the tables say moved " +
    'through the gateway: payments received, less payouts and refunds paid, less chargebacks, plus reversals',
  action:
    'the orders listed have a side that disagrees: a receipt, settlement or chargeback transaction without ' +
    'its row (or a row without its transaction); payments_in_ledger_once, requests_settled_once and ' +
    'chargebacks_match_ledger name the row; compare with the gateway (escrow-worker reconcile-gateway)',
  async run(run) {
    const clearing = await clearingAccountIds(run);
    const ledger = new Map<string, Sides>();
    await forEachChunk(
      run,
      { table: 'ledger_entries', columns: ['entry_id'], total: run.totals.entries },
      async (range) => {
        const chunk = inRange(['e.entry_id'], range);
        const { rows } = await run.db.raw<{ rows: ComponentRow[] }>(
          `SELECT e.currency, ${ledgerComponentsSql}
           FROM ledger_entries e JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
           WHERE ${chunk.sql} AND e.account_id = ANY(?::bigint[])
           GROUP BY e.currency`,
          [...chunk.bindings, clearing],
        );
        for (const row of rows) {
          const sum = ledger.get(row.currency) ?? toSides(undefined);
          const add = toSides(row);
          for (const c of components) sum[c] += add[c];
          ledger.set(row.currency, sum);
        }
      },
    );
    const { rows: tableRows } = await run.db.raw<{ rows: ComponentRow[] }>(
      tableComponentsSql(false),
    );
    const tables = new Map(tableRows.map((row) => [row.currency, toSides(row)]));
    const currencies = [...new Set([...ledger.keys(), ...tables.keys()])].sort();
    for (const currency of currencies) {
      const ledgerSides = ledger.get(currency) ?? toSides(undefined);
      const tableSides = tables.get(currency) ?? toSides(undefined);
      const wrong = differences(currency, ledgerSides, tableSides);
      if (wrong.length === 0) continue;
      run.found({
        subject: `gateway clearing ${currency}`,
        problem:
          `holds ${amountText(clearingOf(ledgerSides), currency)} by the ledger but ` +
          `${amountText(clearingOf(tableSides), currency)} by what moved through the gateway: ` +
          `${wrong.join('; ')}. ${await whereTheMoneyIs(run, currency, tableSides)}`,
        refs: { currency },
      });
      await ordersThatDiffer(run, currency, clearing);
    }
  },
};

/** The platform's money at the gateway, by the tables, and where the ledger holds it. */
async function whereTheMoneyIs(run: CheckRun, currency: string, tables: Sides): Promise<string> {
  const { rows } = await run.db.raw<{ rows: { place: string; minor: string }[] }>(
    `SELECT kind AS place, sum(balance_minor)::text AS minor FROM accounts
     WHERE currency = ? AND maintains_balance GROUP BY kind
     UNION ALL
     SELECT 'PLATFORM_REVENUE', coalesce(sum(e.amount_minor), 0)::text FROM ledger_entries e
     WHERE e.account_id IN (SELECT account_id FROM accounts WHERE kind = 'PLATFORM_REVENUE' AND currency = ?)
     UNION ALL
     SELECT 'IN_PAYOUT_' || kind, sum(amount_minor)::text FROM disbursements
     WHERE trim(currency) = ? AND state = 'REQUESTED' GROUP BY kind`,
    [currency, currency, currency],
  );
  const at = (place: string) => BigInt(rows.find((row) => row.place === place)?.minor ?? 0);
  const text = (minor: bigint) => amountText(minor, currency);
  const platform = -clearingOf(tables);
  return (
    `Money at the gateway for the platform by the tables: ${text(platform)}; the ledger holds ` +
    `${text(at('ESCROW_HOLD'))} in escrow, ${text(at('DISPUTED_FUNDS'))} disputed, ` +
    `${text(at('PROVIDER_PAYABLE'))} provider payable (${text(at('IN_PAYOUT_PAYOUT'))} in payout), ` +
    `${text(at('BUYER_REFUND_PAYABLE'))} refund payable (${text(at('IN_PAYOUT_REFUND'))} in payout), ` +
    `${text(at('PLATFORM_REVENUE'))} revenue, less ${text(-at('PROVIDER_RECEIVABLE'))} owed by providers`
  );
}

interface OrderRow {
  total: string;
  order_id: string | null;
  ledger: ComponentRow;
  tables: ComponentRow;
}

/** Only for a currency that differs: each order whose clearing movements and tables disagree. */
async function ordersThatDiffer(
  run: CheckRun,
  currency: string,
  clearing: string[],
): Promise<void> {
  const side = (alias: string) => components.map((c) => `coalesce(${alias}."${c}", 0)`);
  const asJson = (alias: string) =>
    `json_build_object(${components.map((c, i) => `'${c}', ${side(alias)[i]!}::text`).join(', ')})`;
  const { rows } = await run.db.raw<{ rows: OrderRow[] }>(
    `WITH ledger AS (
       SELECT t.order_id, ${ledgerComponentsSql}
       FROM ledger_entries e JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
       WHERE e.account_id = ANY(?::bigint[]) AND e.currency = ?
       GROUP BY t.order_id
     ), tables AS (${tableComponentsSql(true)}), compared AS MATERIALIZED (
       SELECT coalesce(l.order_id, s.order_id) AS order_id, ${asJson('l')} AS ledger,
         ${asJson('s')} AS tables
       -- Equalities only (a FULL JOIN must hash or merge); a transaction without an order
       -- (NULL order_id) meets the tables' rows without one.
       FROM ledger l FULL JOIN (SELECT * FROM tables WHERE currency = ?) s
         ON (s.order_id IS NULL) = (l.order_id IS NULL) AND coalesce(s.order_id, '') = coalesce(l.order_id, '')
       WHERE (${side('l').join(', ')}) IS DISTINCT FROM (${side('s').join(', ')}))
     SELECT count(*) OVER ()::text AS total, order_id, ledger, tables FROM compared
     ORDER BY order_id LIMIT ?`,
    [clearing, currency, currency, run.options.maxExamplesPerCheck],
  );
  for (const row of rows) {
    run.found({
      subject: `order ${row.order_id ?? '(none)'} (${currency} through gateway clearing)`,
      problem: differences(currency, toSides(row.ledger), toSides(row.tables)).join('; '),
      refs: { ...(row.order_id ? { orderId: row.order_id } : {}), currency },
    });
  }
  run.foundUnlisted(Number(rows[0]?.total ?? 0) - rows.length);
}
