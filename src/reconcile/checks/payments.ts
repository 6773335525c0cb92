/**
 * Invariant 3 of DESIGN.md: each confirmed gateway payment appears in the
 * ledger exactly once. How a payment is recorded (src/pipeline/payments.ts,
 * src/domain/escrow/funding.ts): its money leaves GATEWAY_CLEARING in the
 * transactions of the event that applied it, each carrying the payment's
 * gateway and gatewayReference in its memo: FUNDING or SERVICE_FEE for what
 * was used (applied_minor), OVERPAYMENT_REFUND or CURRENCY_MISMATCH_REFUND for
 * what went back (refunded_minor). The row's ledger_transaction_id names the
 * first of them. A chargeback applied in the same transaction as its payment
 * (kept until the payment came) names the payment too, but is no receipt of
 * it: only the receipt kinds count. Checked from both sides: every
 * APPLIED/REFUNDED payment is received exactly once (here), and every receipt
 * in the ledger is such a payment (receipts.ts).
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check } from '../types';
import { clearingAccountIds, receiptKinds } from './receipts';

interface PaymentRow {
  payment_id: string;
  gateway: string;
  gateway_reference: string;
  order_id: string;
  currency: string;
  status: string;
  amount: string;
  applied: string;
  refunded: string;
  ledger_transaction_id: string | null;
  receipts: string;
  received: string;
  ledger_applied: string;
  ledger_refunded: string;
  names_a_receipt: boolean;
}

export const paymentsInLedgerOnce: Check = {
  name: 'payments_in_ledger_once',
  invariant: 'DESIGN.md invariant 3: each confirmed payment appears in the ledger exactly once',
  description:
    'each APPLIED or REFUNDED payment was received from gateway clearing exactly once, for its amount, ' +
    'split as its row says (applied + refunded = amount), and its ledger_transaction_id names that receipt; ' +
    'a payment still PENDING_ORDER has no receipt',
  action:
    'a receipt too many is a double application: reverse the extra transaction with a correcting one; ' +
    'a missing receipt means the payment row changed without the ledger: replay the payment event',
  async run(run) {
    const scan = { table: 'payments', columns: ['payment_id'], total: run.totals.payments };
    const clearing = await clearingAccountIds(run);
    await forEachChunk(run, scan, async (range) => {
      const chunk = inRange(['p.payment_id'], range);
      // Per payment (LATERAL, so every step is an index lookup whatever the table sizes):
      // its receipts are the transactions of its event (indexed) whose memo names it.
      const { rows } = await run.db.raw<{ rows: PaymentRow[] }>(
        `SELECT p.payment_id::text, p.gateway, p.gateway_reference, p.order_id, p.currency, p.status,
           p.amount_minor::text AS amount, p.applied_minor::text AS applied,
           p.refunded_minor::text AS refunded, p.ledger_transaction_id::text,
           r.receipts::text, r.received::text, r.applied::text AS ledger_applied,
           r.refunded::text AS ledger_refunded, r.names_a_receipt
         FROM payments p
         CROSS JOIN LATERAL (
           SELECT count(DISTINCT t.transaction_id) AS receipts,
             -coalesce(sum(e.amount_minor), 0) AS received,
             -coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('FUNDING', 'SERVICE_FEE')), 0) AS applied,
             -coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('OVERPAYMENT_REFUND',
               'CURRENCY_MISMATCH_REFUND')), 0) AS refunded,
             coalesce(bool_or(t.transaction_id = p.ledger_transaction_id), false) AS names_a_receipt
           FROM ledger_transactions t
           JOIN ledger_entries e ON e.transaction_id = t.transaction_id AND e.account_id = ANY(?::bigint[])
           WHERE t.cause_event_id = p.event_id AND t.kind IN ${receiptKinds}
             AND t.memo->>'gateway' = p.gateway AND t.memo->>'gatewayReference' = p.gateway_reference) r
         WHERE ${chunk.sql} AND CASE WHEN p.status = 'PENDING_ORDER'
           THEN r.receipts > 0 OR p.ledger_transaction_id IS NOT NULL
           ELSE p.applied_minor + p.refunded_minor <> p.amount_minor
             OR r.received <> p.amount_minor
             OR r.applied <> p.applied_minor
             OR r.refunded <> p.refunded_minor
             OR NOT r.names_a_receipt
             OR (p.status = 'REFUNDED') <> (p.refunded_minor = p.amount_minor) END
         ORDER BY p.payment_id`,
        [clearing, ...chunk.bindings],
      );
      for (const row of rows) {
        run.found({
          subject: `payment ${row.gateway}/${row.gateway_reference} (order ${row.order_id})`,
          problem: paymentProblems(row),
          refs: {
            gateway: row.gateway,
            gatewayReference: row.gateway_reference,
            orderId: row.order_id,
            paymentId: row.payment_id,
          },
        });
      }
    });
  },
};

function paymentProblems(row: PaymentRow): string {
  const text = (minor: string | bigint) => amountText(minor, row.currency);
  const times = `${row.receipts} ledger transaction${row.receipts === '1' ? '' : 's'}`;
  if (row.status === 'PENDING_ORDER') {
    return `is PENDING_ORDER (not applied) yet the ledger received ${text(row.received)} for it in ${times}`;
  }
  const problems: string[] = [];
  if (BigInt(row.applied) + BigInt(row.refunded) !== BigInt(row.amount)) {
    problems.push(
      `applied ${text(row.applied)} + refunded ${text(row.refunded)} ≠ its amount ${text(row.amount)}`,
    );
  }
  if (BigInt(row.received) !== BigInt(row.amount)) {
    problems.push(
      `${row.status} for ${text(row.amount)} but received ${text(row.received)} in ${times}`,
    );
  }
  if (
    BigInt(row.ledger_applied) !== BigInt(row.applied) ||
    BigInt(row.ledger_refunded) !== BigInt(row.refunded)
  ) {
    problems.push(
      `the row splits it applied ${text(row.applied)} / refunded ${text(row.refunded)}, the ledger ` +
        `${text(row.ledger_applied)} / ${text(row.ledger_refunded)}`,
    );
  }
  if (!row.names_a_receipt) {
    problems.push(
      `its ledger_transaction_id ${row.ledger_transaction_id ?? 'is null and'} names none of its receipts`,
    );
  }
  if ((row.status === 'REFUNDED') !== (BigInt(row.refunded) === BigInt(row.amount))) {
    problems.push(
      `status ${row.status} with ${text(row.refunded)} of ${text(row.amount)} refunded`,
    );
  }
  return problems.join('; ');
}
