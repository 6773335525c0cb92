/**
 * Invariant 3 of DESIGN.md, from the ledger's side: every transaction that
 * touches gateway clearing is either a payment receipt (FUNDING, SERVICE_FEE,
 * OVERPAYMENT_REFUND or CURRENCY_MISMATCH_REFUND) naming, in its memo, a
 * payment that exists and was applied by the same event, or a settlement
 * (PAYOUT_SETTLEMENT, REFUND_SETTLEMENT, CHARGEBACK, CHARGEBACK_REVERSAL).
 * A chargeback's memo names the payment it pulls back, but it is not a
 * receipt of that payment: settlements are matched to their requests and
 * chargebacks by settlements.ts, chargebacks.ts and gateway-clearing.ts. With
 * payments_in_ledger_once (the payments' side), each confirmed payment is in
 * the ledger exactly once and nothing else came in through clearing.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';

export const receiptKinds = `('FUNDING', 'SERVICE_FEE', 'OVERPAYMENT_REFUND', 'CURRENCY_MISMATCH_REFUND')`;
/** Money leaving through clearing (or, for a reversal, coming back): checked by the settlement checks. */
export const settlementKinds = `('PAYOUT_SETTLEMENT', 'REFUND_SETTLEMENT', 'CHARGEBACK', 'CHARGEBACK_REVERSAL')`;

/**
 * The gateway clearing accounts (one per currency). Entries are filtered by these
 * ids rather than by joining accounts on kind: clearing holds a large share of all
 * entries, and a join on kind lets the planner start from all of them.
 */
export async function clearingAccountIds(run: CheckRun): Promise<string[]> {
  const { rows } = await run.db.raw<{ rows: { account_id: string }[] }>(
    `SELECT account_id::text FROM accounts WHERE kind = 'GATEWAY_CLEARING'`,
  );
  return rows.map((row) => row.account_id);
}

interface ReceiptRow {
  transaction_id: string;
  kind: string;
  order_id: string | null;
  cause_event_id: string;
  gateway: string | null;
  gateway_reference: string | null;
  currency: string;
  received: string;
  payment_status: string | null;
  payment_event_id: string | null;
}

export const ledgerReceiptsNameAPayment: Check = {
  name: 'ledger_receipts_name_a_payment',
  invariant: 'DESIGN.md invariant 3: every receipt in the ledger is a confirmed payment',
  description:
    'every transaction that touches gateway clearing is a payment receipt or a settlement; a receipt names a ' +
    'payment by gateway and reference, and that payment is APPLIED or REFUNDED by the same event',
  action:
    'money entered the ledger without its payment row (or for another payment): find the gateway ' +
    'transaction by its reference and restore the payment row, or reverse the transaction',
  async run(run) {
    const scan = {
      table: 'ledger_transactions',
      columns: ['transaction_id'],
      total: run.totals.transactions,
    };
    const clearing = await clearingAccountIds(run);
    await forEachChunk(run, scan, async (range) => {
      const chunk = inRange(['t.transaction_id'], range);
      const entries = inRange(['e.transaction_id'], range);
      const { rows } = await run.db.raw<{ rows: ReceiptRow[] }>(
        `SELECT t.transaction_id::text, t.kind, t.order_id, t.cause_event_id,
           t.memo->>'gateway' AS gateway, t.memo->>'gatewayReference' AS gateway_reference,
           e.currency, (-sum(e.amount_minor))::text AS received,
           p.status AS payment_status, p.event_id AS payment_event_id
         FROM ledger_transactions t
         JOIN ledger_entries e ON e.transaction_id = t.transaction_id AND e.account_id = ANY(?::bigint[])
           AND ${entries.sql}
         LEFT JOIN payments p ON p.gateway = t.memo->>'gateway'
           AND p.gateway_reference = t.memo->>'gatewayReference'
         WHERE ${chunk.sql} AND t.kind NOT IN ${settlementKinds}
         GROUP BY t.transaction_id, e.currency, p.payment_id
         HAVING t.kind NOT IN ${receiptKinds} OR p.payment_id IS NULL
           OR p.status = 'PENDING_ORDER' OR p.event_id <> t.cause_event_id
         ORDER BY t.transaction_id`,
        [clearing, ...entries.bindings, ...chunk.bindings],
      );
      for (const row of rows) {
        const payment = `${row.gateway ?? '(no gateway)'}/${row.gateway_reference ?? '(no reference)'}`;
        const received = `received ${amountText(row.received, row.currency)} from gateway clearing`;
        const problem = !/^(FUNDING|SERVICE_FEE|OVERPAYMENT_REFUND|CURRENCY_MISMATCH_REFUND)$/.test(
          row.kind,
        )
          ? `a ${row.kind} transaction ${received}; only payment receipts and settlements touch clearing`
          : row.payment_status === null
            ? `${received} for payment ${payment}, which has no payment row`
            : row.payment_status === 'PENDING_ORDER'
              ? `${received} for payment ${payment}, which is still PENDING_ORDER`
              : `${received} for payment ${payment} through event ${row.cause_event_id}, but that payment ` +
                `was confirmed by event ${row.payment_event_id ?? '?'}`;
        run.found({
          subject: `transaction ${row.transaction_id} (${row.kind}, order ${row.order_id ?? '-'})`,
          problem,
          refs: {
            transactionId: row.transaction_id,
            ...(row.order_id ? { orderId: row.order_id } : {}),
            ...(row.gateway ? { gateway: row.gateway } : {}),
            ...(row.gateway_reference ? { gatewayReference: row.gateway_reference } : {}),
          },
        });
      }
    });
  },
};
