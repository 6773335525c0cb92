/**
 * The matching, in SQL, inside the run's repeatable-read transaction: the
 * file's lines go into a temporary table batch by batch; the ledger's side
 * is read from the gateway-clearing entries themselves (every transaction
 * that moves money through a gateway names it and the reference in its
 * memo), grouped into one item per (type, reference, currency); a full
 * join of the two by (type, reference) gives each item its outcome. Both
 * sides are read a tolerance beyond the window, so an item whose
 * counterpart falls just outside it is matched, not reported missing.
 */
import type { Knex } from 'knex';
import { Recordset } from '../db/columns';
import type { ReportLine } from './report-line';

export interface MatchWindow {
  readonly from: Date;
  readonly to: Date;
  readonly toleranceMs: number;
}

export async function createReportTable(trx: Knex.Transaction): Promise<void> {
  await trx.raw(`
    CREATE TEMP TABLE gateway_report (
      line bigint NOT NULL, type text NOT NULL, reference text NOT NULL,
      amount_minor bigint NOT NULL, currency text NOT NULL, occurred_at timestamptz NOT NULL
    ) ON COMMIT DROP`);
}

/** The report's lines as the statement below reads them (src/db/columns.ts). */
const reportRows = new Recordset<{
  line: number;
  type: string;
  reference: string;
  amount_minor: string;
  currency: string;
  occurred_at: Date;
}>(
  'line',
  'line bigint, type text, reference text, amount_minor bigint, currency text, occurred_at timestamptz',
);

export async function loadReportLines(
  trx: Knex.Transaction,
  lines: readonly ReportLine[],
): Promise<void> {
  await trx.raw(
    `INSERT INTO gateway_report
     SELECT * FROM ${reportRows.sql}`,
    [
      reportRows.json(
        lines.map((line) => ({
          line: line.line,
          type: line.type,
          reference: line.gatewayReference,
          amount_minor: line.amountMinor.toString(),
          currency: line.currency,
          occurred_at: line.occurredAt,
        })),
      ),
    ],
  );
}

/** The file's first and last instant: the window when none is given. */
export async function reportSpan(trx: Knex.Transaction): Promise<{ from: Date; to: Date } | null> {
  const { rows } = await trx.raw<{ rows: { first: Date | null; last: Date | null }[] }>(
    'SELECT min(occurred_at) AS first, max(occurred_at) AS last FROM gateway_report',
  );
  const { first, last } = rows[0]!;
  return first && last ? { from: first, to: last } : null;
}

/** How each ledger kind that moves gateway clearing reads in a gateway's report. */
const typeOfKind = `CASE t.kind
  WHEN 'FUNDING' THEN 'charge' WHEN 'SERVICE_FEE' THEN 'charge'
  WHEN 'OVERPAYMENT_REFUND' THEN 'charge' WHEN 'CURRENCY_MISMATCH_REFUND' THEN 'charge'
  WHEN 'REFUND_SETTLEMENT' THEN 'refund' WHEN 'PAYOUT_SETTLEMENT' THEN 'payout'
  WHEN 'CHARGEBACK' THEN 'chargeback' WHEN 'CHARGEBACK_REVERSAL' THEN 'chargeback_reversal'
  ELSE 'other:' || t.kind END`;

/**
 * Money into the platform is positive: charges and won chargebacks in,
 * refunds, payouts and chargebacks out. The file's net and the ledger's
 * clearing movement are compared in these terms.
 */
export const signOf = (type: string) =>
  `CASE ${type} WHEN 'charge' THEN 1 WHEN 'chargeback_reversal' THEN 1
     WHEN 'refund' THEN -1 WHEN 'payout' THEN -1 WHEN 'chargeback' THEN -1 ELSE 0 END`;

export async function matchReport(
  trx: Knex.Transaction,
  gateway: string,
  window: MatchWindow,
): Promise<void> {
  const wideFrom = new Date(window.from.getTime() - window.toleranceMs);
  const wideTo = new Date(window.to.getTime() + window.toleranceMs);
  // Clearing is the platform's side of every gateway movement: a charge takes money
  // out of it (negative), a payout, refund or chargeback puts it back.
  await trx.raw(
    `CREATE TEMP TABLE gateway_ledger ON COMMIT DROP AS
     SELECT ${typeOfKind} AS type, t.memo->>'gatewayReference' AS reference,
       trim(e.currency) AS currency, abs(sum(e.amount_minor))::bigint AS amount_minor,
       sum(e.amount_minor)::bigint AS clearing_minor, min(t.created_at) AS at,
       min(t.order_id) AS order_id, min(t.transaction_id)::text AS transaction_id
     FROM ledger_transactions t
     JOIN ledger_entries e ON e.transaction_id = t.transaction_id
     JOIN accounts a ON a.account_id = e.account_id AND a.kind = 'GATEWAY_CLEARING'
     WHERE t.memo->>'gateway' = ? AND t.created_at BETWEEN ? AND ?
     GROUP BY 1, 2, 3`,
    [gateway, wideFrom, wideTo],
  );
  await trx.raw(
    `CREATE TEMP TABLE gateway_result ON COMMIT DROP AS
     WITH file_items AS (
       SELECT type, reference, count(*) AS copies, array_agg(line ORDER BY line) AS lines,
         (array_agg(amount_minor ORDER BY line))[1] AS amount_minor,
         (array_agg(currency ORDER BY line))[1] AS currency,
         (array_agg(occurred_at ORDER BY line))[1] AS occurred_at
       FROM gateway_report WHERE occurred_at BETWEEN ? AND ?
       GROUP BY type, reference
     ), joined AS (
       SELECT coalesce(f.type, l.type) AS type, coalesce(f.reference, l.reference) AS reference,
         f.lines, coalesce(f.copies, 0) AS copies, f.amount_minor AS file_minor,
         f.currency AS file_currency, f.occurred_at, l.amount_minor AS ledger_minor,
         l.clearing_minor AS ledger_clearing_minor, l.currency AS ledger_currency, l.at AS ledger_at, l.order_id, l.transaction_id,
         coalesce(f.occurred_at BETWEEN ? AND ?, false)
           OR coalesce(l.at BETWEEN ? AND ?, false) AS in_window
       FROM file_items f FULL JOIN gateway_ledger l ON l.type = f.type AND l.reference = f.reference
     )
     SELECT *, CASE
         WHEN NOT in_window THEN 'edge'
         WHEN file_minor IS NULL THEN 'only_in_ledger'
         WHEN ledger_minor IS NULL THEN 'only_in_file'
         WHEN file_minor = ledger_minor AND file_currency = ledger_currency THEN 'matched'
         ELSE 'amount_differs' END AS outcome
     FROM joined`,
    [wideFrom, wideTo, window.from, window.to, window.from, window.to],
  );
}
