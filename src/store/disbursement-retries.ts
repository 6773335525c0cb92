/**
 * The disbursements table's SQL for `payouts retry` / `refunds retry`
 * (src/cli/retry-command.ts, src/cli/retry-disbursement.ts): which failed
 * requests to ask for again, the failed row locked and read again, the
 * request that replaced a retried one, the failed row marked RETRIED, and the
 * new request's row (`retryDisbursementsSql`: insertDisbursementsSql's
 * columns, the same jsonb parameter).
 *
 * Order matters inside the retry's transaction: the failed row leaves the
 * partial unique index disbursements_one_open (state RETRIED) before its
 * replacement enters it (state REQUESTED, same root_outcome_id), so the index
 * lets one retry through and refuses a second open request for one money,
 * whoever writes it.
 */
import type { Knex } from 'knex';
import { prepared } from '../db/columns';
import {
  type DisbursementRow,
  disbursementRecordset,
  insertDisbursementsSql,
} from './disbursements';

export type DisbursementKind = 'PAYOUT' | 'REFUND';
export type DisbursementState = 'REQUESTED' | 'PAID' | 'FAILED' | 'RETRIED';

/** A request as stored, amounts in minor units (decimal strings, never numbers). */
export interface StoredRequest {
  readonly outcomeId: string;
  readonly kind: DisbursementKind;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly partyId: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly grossMinor: string | null;
  readonly feeMinor: string | null;
  readonly recoveredMinor: string | null;
  readonly refundReason: string | null;
  readonly ledgerTransactionId: string | null;
  readonly rootOutcomeId: string;
  readonly retryOf: string | null;
  readonly state: DisbursementState;
  readonly failureReason: string | null;
  readonly settlement: string | null;
  readonly settledAt: Date | null;
}

interface RequestRow {
  outcome_id: string;
  kind: DisbursementKind;
  order_id: string;
  milestone_id: string | null;
  party_id: string;
  currency: string;
  amount_minor: string;
  gross_minor: string | null;
  fee_minor: string | null;
  recovered_minor: string | null;
  refund_reason: string | null;
  ledger_transaction_id: string | null;
  root_outcome_id: string;
  retry_of: string | null;
  state: DisbursementState;
  failure_reason: string | null;
  settlement: string | null;
  settled_at: Date | null;
}

// Named columns, as text where they are ids or money: a JS number never holds either.
const requestColumns = `outcome_id::text, kind, order_id, milestone_id, party_id,
  trim(currency) AS currency, amount_minor::text, gross_minor::text, fee_minor::text,
  recovered_minor::text, refund_reason, ledger_transaction_id::text, root_outcome_id::text,
  retry_of::text, state, failure_reason,
  settlement_gateway || '/' || settlement_reference AS settlement, settled_at`;

const toRequest = (row: RequestRow): StoredRequest => ({
  outcomeId: row.outcome_id,
  kind: row.kind,
  orderId: row.order_id,
  milestoneId: row.milestone_id,
  partyId: row.party_id,
  currency: row.currency,
  amountMinor: row.amount_minor,
  grossMinor: row.gross_minor,
  feeMinor: row.fee_minor,
  recoveredMinor: row.recovered_minor,
  refundReason: row.refund_reason,
  ledgerTransactionId: row.ledger_transaction_id,
  rootOutcomeId: row.root_outcome_id,
  retryOf: row.retry_of,
  state: row.state,
  failureReason: row.failure_reason,
  settlement: row.settlement,
  settledAt: row.settled_at,
});

/** The request with this outcomeId, in any state, or null; read without a lock. */
export async function findRequest(
  db: Knex | Knex.Transaction,
  outcomeId: string,
): Promise<StoredRequest | null> {
  const { rows } = await db.raw<{ rows: RequestRow[] }>(
    `SELECT ${requestColumns} FROM disbursements WHERE outcome_id = ?::uuid`,
    [outcomeId],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

/**
 * Every FAILED request of a kind (of one party when named), oldest failure
 * first: what `--provider` / `--buyer` / `--all-failed` select. Read without
 * a lock; each one is locked and read again when it is retried.
 */
export async function failedRequests(
  db: Knex,
  kind: DisbursementKind,
  partyId: string | null,
): Promise<StoredRequest[]> {
  const { rows } = await db.raw<{ rows: RequestRow[] }>(
    `SELECT ${requestColumns} FROM disbursements
     WHERE state = 'FAILED' AND kind = :kind AND (:party::text IS NULL OR party_id = :party)
     ORDER BY settled_at, outcome_id`,
    { kind, party: partyId },
  );
  return rows.map(toRequest);
}

/** How many requests of a kind a party has in any state: 0 names a party the table never saw. */
export async function requestCountOf(
  db: Knex,
  kind: DisbursementKind,
  partyId: string,
): Promise<number> {
  const { rows } = await db.raw<{ rows: { total: number }[] }>(
    `SELECT count(*)::int AS total FROM disbursements WHERE kind = ? AND party_id = ?`,
    [kind, partyId],
  );
  return rows[0]?.total ?? 0;
}

/**
 * The request, locked until the transaction ends (FOR UPDATE): a second
 * operator retrying it waits here, then reads the row as the first left it
 * (RETRIED), since each statement of a READ COMMITTED transaction sees what
 * was committed before it ran.
 */
export async function lockRequest(
  trx: Knex.Transaction,
  outcomeId: string,
): Promise<StoredRequest | null> {
  const { rows } = await trx.raw<{ rows: RequestRow[] }>(
    `SELECT ${requestColumns} FROM disbursements WHERE outcome_id = ?::uuid FOR UPDATE`,
    [outcomeId],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

/** The request that asked again for a RETRIED one (retry_of names it), or null. */
export async function replacementOf(
  db: Knex | Knex.Transaction,
  outcomeId: string,
): Promise<StoredRequest | null> {
  const { rows } = await db.raw<{ rows: RequestRow[] }>(
    `SELECT ${requestColumns} FROM disbursements WHERE retry_of = ?::uuid
     ORDER BY requested_at DESC LIMIT 1`,
    [outcomeId],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

/** The request open now for one money (requested, or failed and not retried), or null. */
export async function openRequestOf(
  db: Knex | Knex.Transaction,
  rootOutcomeId: string,
): Promise<StoredRequest | null> {
  const { rows } = await db.raw<{ rows: RequestRow[] }>(
    `SELECT ${requestColumns} FROM disbursements
     WHERE root_outcome_id = ?::uuid AND state IN ('REQUESTED', 'FAILED')`,
    [rootOutcomeId],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

/**
 * FAILED → RETRIED. The failure's reason, settlement and settled_at stay (the
 * table's CHECKs want them, and reconciliation finds the PAYOUT_FAILED by
 * them). Guarded by the state read: false when the row was not FAILED.
 */
export async function markRetried(trx: Knex.Transaction, outcomeId: string): Promise<boolean> {
  const { rowCount } = await trx.raw<{ rowCount: number }>(
    `UPDATE disbursements SET state = 'RETRIED' WHERE outcome_id = ?::uuid AND state = 'FAILED'`,
    [outcomeId],
  );
  return rowCount === 1;
}

/** The new request's row: the pipeline's own insert, fed one row. */
export const retryDisbursementsSql = insertDisbursementsSql;

export async function insertRetry(trx: Knex.Transaction, row: DisbursementRow): Promise<void> {
  await prepared(trx, 'retry_disbursement', retryDisbursementsSql, [
    disbursementRecordset.json([row]),
  ]);
}

/** Where a refund's gateway references were read from (see refundReferences). */
export type ReferenceSource = 'request' | 'ledger' | 'payments';

/**
 * The gateway references a retried refund names: those of the failed
 * request's own REFUND_REQUESTED while its outbox row is kept (the relay
 * prunes published rows after days), otherwise rebuilt as the pipeline chose
 * them: the payment named by the refund's ledger transaction (an overpayment,
 * a payment in the wrong currency, a chargeback reversal), else the payments
 * applied to its milestone, in the order they were applied.
 */
export async function refundReferences(
  trx: Knex.Transaction,
  request: StoredRequest,
): Promise<{ references: string[]; source: ReferenceSource }> {
  const { rows } = await trx.raw<{
    rows: { request: string[] | null; ledger: string | null; payments: string[] }[];
  }>(
    `SELECT
       (SELECT payload->'gatewayReferences' FROM outbox WHERE outcome_id = :outcome::uuid) AS request,
       (SELECT memo->>'gatewayReference' FROM ledger_transactions
         WHERE transaction_id = :transaction::bigint) AS ledger,
       (SELECT coalesce(json_agg(gateway_reference ORDER BY payment_id), '[]') FROM payments
         WHERE order_id = :order AND milestone_id = :milestone AND status = 'APPLIED') AS payments`,
    {
      outcome: request.outcomeId,
      transaction: request.ledgerTransactionId,
      order: request.orderId,
      milestone: request.milestoneId,
    },
  );
  const found = rows[0]!;
  if (found.request !== null) return { references: found.request, source: 'request' };
  if (found.ledger !== null) return { references: [found.ledger], source: 'ledger' };
  return { references: found.payments, source: 'payments' };
}
