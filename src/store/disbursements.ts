/**
 * The disbursements table's SQL: a row per PAYOUT_REQUESTED and
 * REFUND_REQUESTED (written with its outbox row, in the same statement), the
 * settlement that closes it, and what a slice reads to decide a settlement.
 * `payouts retry` / `refunds retry` (src/cli/retry-command.ts) add the row of
 * a new request through `retryDisbursementsSql`, this file's insert, and mark
 * the failed one RETRIED (src/store/disbursement-retries.ts).
 */
import type { Knex } from 'knex';
import { prepared, Recordset } from '../db/columns';
import type { Disbursement, SettlementChange } from '../domain/escrow';
import { money, parseAmount } from '../domain/money';

/**
 * A payout, refund or chargeback changed under a slice that read it (only a
 * writer outside the orders' locks can do that): decided again, like a
 * milestone's VersionConflict.
 */
export class SettlementConflict extends Error {
  readonly code = 'SETTLEMENT_CONFLICT';
  readonly retryable = true;
  constructor(detail: string) {
    super(`${detail}; the slice is decided again on the stored state`);
    this.name = 'SettlementConflict';
  }
}

export interface DisbursementRow {
  readonly outcome_id: string;
  readonly kind: 'PAYOUT' | 'REFUND';
  readonly order_id: string;
  readonly milestone_id: string | null;
  readonly party_id: string;
  readonly currency: string;
  readonly amount_minor: string;
  readonly gross_minor: string | null;
  readonly fee_minor: string | null;
  readonly recovered_minor: string | null;
  readonly refund_reason: string | null;
  readonly ledger_transaction_id: string | null;
  readonly root_outcome_id: string;
  readonly retry_of: string | null;
  readonly requested_at: Date;
}

/** The disbursement row of an outbox row that asks for money to move; null for any other. */
export function disbursementRow(
  row: { outcome_id: string; type: string; payload: Record<string, unknown> },
  now: Date,
): DisbursementRow | null {
  if (row.type !== 'PAYOUT_REQUESTED' && row.type !== 'REFUND_REQUESTED') return null;
  const payload = row.payload as Record<string, string | null>;
  const currency = payload.currency!;
  const minor = (text: string | null | undefined) =>
    text === null || text === undefined
      ? null
      : parseAmount(text, currency, { allowZero: true }).minor.toString();
  const payout = row.type === 'PAYOUT_REQUESTED';
  return {
    outcome_id: row.outcome_id,
    kind: payout ? 'PAYOUT' : 'REFUND',
    order_id: payload.orderId!,
    milestone_id: payload.milestoneId ?? null,
    party_id: payout ? payload.providerId! : payload.buyerId!,
    currency,
    amount_minor: minor(payout ? payload.netAmount : payload.amount)!,
    gross_minor: payout ? minor(payload.grossAmount) : null,
    fee_minor: payout ? minor(payload.feeAmount) : null,
    recovered_minor: payout ? (minor(payload.recoveredAmount) ?? '0') : null,
    refund_reason: payout ? null : (payload.reason ?? null),
    ledger_transaction_id: payload.ledgerTransactionId ?? null,
    root_outcome_id: row.outcome_id,
    retry_of: null,
    requested_at: now,
  };
}

/** The requests' parameter (src/db/columns.ts). */
export const disbursementRecordset = new Recordset<DisbursementRow>(
  'requested',
  `outcome_id uuid, kind text, order_id text, milestone_id text, party_id text, currency text,
    amount_minor bigint, gross_minor bigint, fee_minor bigint, recovered_minor bigint,
    refund_reason text, ledger_transaction_id bigint, root_outcome_id uuid, retry_of uuid,
    requested_at timestamptz`,
);

/** Inserts the rows of its one jsonb parameter (a CTE of the slice's write). */
export const insertDisbursementsSql = `
  INSERT INTO disbursements (outcome_id, kind, order_id, milestone_id, party_id, currency,
    amount_minor, gross_minor, fee_minor, recovered_minor, refund_reason, ledger_transaction_id,
    root_outcome_id, retry_of, state, requested_at)
  SELECT outcome_id, kind, order_id, milestone_id, party_id, currency, amount_minor, gross_minor,
    fee_minor, recovered_minor, refund_reason, ledger_transaction_id, root_outcome_id, retry_of,
    'REQUESTED', requested_at
  FROM ${disbursementRecordset.sql}`;

export interface SettledRow {
  readonly outcome_id: string;
  readonly state: SettlementChange['state'];
  readonly failure_reason: string | null;
  readonly settlement_gateway: string;
  readonly settlement_reference: string;
  readonly settlement_event_id: string;
}

/** The settlements' parameter (src/db/columns.ts). */
export const settledRecordset = new Recordset<SettledRow>(
  'settled',
  `outcome_id uuid, state text, failure_reason text, settlement_gateway text,
    settlement_reference text, settlement_event_id text`,
);

/**
 * Settles requests still REQUESTED; the guard makes a request settled by
 * someone else meanwhile count short, which the write step refuses.
 */
export const settleDisbursementsSql = `
  UPDATE disbursements SET state = settled.state, failure_reason = settled.failure_reason,
    settlement_gateway = settled.settlement_gateway, settlement_reference = settled.settlement_reference,
    settlement_event_id = settled.settlement_event_id, settled_at = ?::timestamptz
  FROM ${settledRecordset.sql}
  WHERE disbursements.outcome_id = settled.outcome_id AND disbursements.state = 'REQUESTED'`;

/** The requests a slice's settlements name, read under their orders' locks. */
export async function loadDisbursements(
  trx: Knex.Transaction,
  outcomeIds: readonly string[],
): Promise<Map<string, Disbursement>> {
  const found = new Map<string, Disbursement>();
  if (outcomeIds.length === 0) return found;
  const { rows } = await prepared<{
    rows: {
      outcome_id: string;
      kind: 'PAYOUT' | 'REFUND';
      order_id: string;
      milestone_id: string | null;
      party_id: string;
      currency: string;
      amount_minor: string;
      state: Disbursement['state'];
      root_outcome_id: string;
    }[];
  }>(
    trx,
    'slice_disbursements',
    `SELECT outcome_id, kind, order_id, milestone_id, party_id, currency, amount_minor::text,
       state, root_outcome_id FROM disbursements WHERE outcome_id = ANY(?::uuid[])`,
    [[...new Set(outcomeIds)]],
  );
  for (const row of rows)
    found.set(row.outcome_id, {
      outcomeId: row.outcome_id,
      kind: row.kind,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      partyId: row.party_id,
      amount: money(row.currency.trim(), BigInt(row.amount_minor)),
      state: row.state,
      rootOutcomeId: row.root_outcome_id,
    });
  return found;
}
