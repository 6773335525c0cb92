/**
 * Invariant 3 of DESIGN.md: each confirmed gateway payment appears in the
 * ledger exactly once. How a payment is recorded (src/pipeline/payments.ts,
 * src/domain/escrow/funding.ts): its money leaves GATEWAY_CLEARING in the
 * transactions of the event that applied it, each carrying the payment's
 * gateway and gatewayReference in its memo: FUNDING or SERVICE_FEE for what
 * was used (applied_minor), OVERPAYMENT_REFUND or CURRENCY_MISMATCH_REFUND for
 * what went back (refunded_minor). The row's ledger_transaction_id names the
 * first of them. Checked from both sides: every APPLIED/REFUNDED payment is
 * received exactly once, and every receipt in the ledger is such a payment.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';

const receiptKinds = `('FUNDING', 'SERVICE_FEE', 'OVERPAYMENT_REFUND', 'CURRENCY_MISMATCH_REFUND')`;

/**
 * The gateway clearing accounts (one per currency). Entries are filtered by these
 * ids rather than by joining accounts on kind: clearing holds a large share of all
 * entries, and a join on kind lets the planner start from all of them.
 */
async function clearingAccountIds(run: CheckRun): Promise<string[]> {
  const { rows } = await run.db.raw<{ rows: { account_id: string }[] }>(
    `SELECT account_id::text FROM accounts WHERE kind = 'GATEWAY_CLEARING'`,
  );
  return rows.map((row) => row.account_id);
}

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
           WHERE t.cause_event_id = p.event_id
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
    'every transaction that takes money from gateway clearing is a payment receipt kind, names a payment ' +
    'by gateway and reference, and that payment is APPLIED or REFUNDED by the same event',
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
         WHERE ${chunk.sql}
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
          ? `a ${row.kind} transaction ${received}; only payment receipts take money from clearing`
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
