/**
 * The attention page's gateway reconciliation: the last recorded run of each
 * gateway (`escrow-worker reconcile-gateway --record`,
 * src/gateway-reconciliation/record.ts) and the differences it found that
 * nobody has explained yet, each with the command that explains it. Only
 * recorded runs are known to the worker: a run without --record leaves
 * nothing behind.
 *
 * Cost: one row per gateway by gateway_reconciliation_runs_by_gateway, then
 * the differences of those runs by gateway_reconciliation_differences_by_run.
 */
import type { Knex } from 'knex';
import { listRecordedRuns, type RecordedRunRow } from '../gateway-reconciliation/record';
import { amountText } from './view-support';

export interface UnexplainedDifference {
  differenceId: string;
  gateway: string;
  kind: string;
  type: string;
  gatewayReference: string;
  /** The file's side, when the report has the item. */
  file: { amount: string; currency: string; occurredAt: string; lines: number[] } | null;
  /** The ledger's side, when the ledger has the item. */
  ledger: {
    amount: string;
    currency: string;
    at: string;
    orderId: string | null;
    transactionId: string;
  } | null;
  note: string | null;
  /** First seen in this run (not carried over from an earlier one). */
  isNew: boolean;
  explainCommand: string;
}

export interface GatewayReconciliation {
  /** The newest recorded run of each gateway, newest first. */
  lastRuns: RecordedRunRow[];
  /** Their unexplained differences, at most the limit. */
  unexplained: UnexplainedDifference[];
}

interface Side {
  amountMinor: string;
  currency: string;
}

const sideAmount = (side: Side) => {
  try {
    return amountText(side.currency, side.amountMinor);
  } catch {
    // A currency the runtime does not know (a report's typo): show the minor units as given.
    return `${side.amountMinor} (minor units)`;
  }
};

export async function gatewayReconciliation(
  db: Knex.Transaction,
  listed: number,
): Promise<GatewayReconciliation> {
  const { rows: gateways } = await db.raw<{ rows: { gateway: string }[] }>(
    'SELECT DISTINCT gateway FROM gateway_reconciliation_runs ORDER BY gateway',
  );
  const lastRuns: RecordedRunRow[] = [];
  for (const { gateway } of gateways) {
    lastRuns.push(...(await listRecordedRuns(db, { gateway, limit: 1 })));
  }
  lastRuns.sort((a, b) => b.recordedAt.localeCompare(a.recordedAt));
  const { rows } = await db.raw<{
    rows: {
      difference_id: string;
      gateway: string;
      kind: string;
      type: string;
      gateway_reference: string;
      detail: {
        file: (Side & { occurredAt: string; lines: number[] }) | null;
        ledger: (Side & { at: string; orderId: string | null; transactionId: string }) | null;
        note: string | null;
      };
      is_new: boolean;
    }[];
  }>(
    `SELECT difference_id::text, gateway, kind, type, gateway_reference, detail,
       first_run_id = last_run_id AS is_new
     FROM gateway_reconciliation_differences
     WHERE last_run_id = ANY(?::bigint[]) AND explanation IS NULL
     ORDER BY gateway, difference_id LIMIT ?`,
    [lastRuns.map((run) => run.runId), listed],
  );
  return {
    lastRuns,
    unexplained: rows.map((row) => {
      const { file, ledger, note } = row.detail;
      return {
        differenceId: row.difference_id,
        gateway: row.gateway,
        kind: row.kind,
        type: row.type,
        gatewayReference: row.gateway_reference,
        file: file
          ? {
              amount: sideAmount(file),
              currency: file.currency,
              occurredAt: file.occurredAt,
              lines: file.lines,
            }
          : null,
        ledger: ledger
          ? {
              amount: sideAmount(ledger),
              currency: ledger.currency,
              at: ledger.at,
              orderId: ledger.orderId,
              transactionId: ledger.transactionId,
            }
          : null,
        note,
        isNew: row.is_new,
        explainCommand: `escrow-worker reconcile-gateway explain ${row.difference_id} --note '…'`,
      };
    }),
  };
}
