/**
 * Recorded runs (`reconcile-gateway --record`): the run and each difference
 * it found, written in the run's own transaction, so a difference already
 * known keeps its id across runs and an explained one stays explained;
 * `reconcile-gateway explain ID --note ...` marks one; the operations API
 * lists the runs. The tables are gateway_reconciliation_runs and
 * gateway_reconciliation_differences (migration 202612070002).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Recordset } from '../db/columns';
import type { GatewaySummary } from './run';
import type { GatewayDifference } from './summarize';

export interface RecordedDifference {
  readonly differenceId: string;
  /** First seen in this run. */
  readonly isNew: boolean;
  readonly explanation: string | null;
}

/** One difference's identity across runs: the same items with the same amounts. */
export function fingerprintOf(difference: GatewayDifference): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        difference.kind,
        difference.type,
        difference.gatewayReference,
        difference.file?.amountMinor ?? null,
        difference.file?.currency ?? null,
        difference.ledger?.amountMinor ?? null,
        difference.ledger?.currency ?? null,
      ]),
    )
    .digest('hex');
}

export async function startRecordedRun(
  trx: Knex.Transaction,
  summary: GatewaySummary,
): Promise<string> {
  const { rows } = await trx.raw<{ rows: { run_id: string }[] }>(
    `INSERT INTO gateway_reconciliation_runs (gateway, file_name, format, window_from, window_to,
       tolerance_ms, lines_read, matched, differences, new_differences, explained, summary)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?::jsonb) RETURNING run_id::text`,
    [
      summary.gateway,
      summary.file,
      summary.format,
      summary.window.from,
      summary.window.to,
      summary.window.toleranceMs,
      summary.lines.linesRead,
      summary.counts.matched,
      summary.differences,
      JSON.stringify({ counts: summary.counts, totals: summary.totals, nets: summary.nets }),
    ],
  );
  return rows[0]!.run_id;
}

/** The differences' parameter (src/db/columns.ts). */
const foundRows = new Recordset<{
  fingerprint: string;
  kind: string;
  type: string;
  gateway_reference: string | null;
  detail: object;
}>('found', 'fingerprint text, kind text, type text, gateway_reference text, detail jsonb');

/** Files a page of the run's differences; returns each one's id and standing, in order. */
export async function recordDifferences(
  trx: Knex.Transaction,
  runId: string,
  gateway: string,
  differences: readonly GatewayDifference[],
): Promise<RecordedDifference[]> {
  if (differences.length === 0) return [];
  const rows = differences.map((difference) => ({
    fingerprint: fingerprintOf(difference),
    kind: difference.kind,
    type: difference.type,
    gateway_reference: difference.gatewayReference,
    detail: { file: difference.file, ledger: difference.ledger, note: difference.note },
  }));
  const { rows: filed } = await trx.raw<{
    rows: {
      fingerprint: string;
      difference_id: string;
      first_run_id: string;
      explanation: string | null;
    }[];
  }>(
    `INSERT INTO gateway_reconciliation_differences AS known (gateway, fingerprint, kind, type,
       gateway_reference, detail, first_run_id, last_run_id)
     SELECT ?, fingerprint, kind, type, gateway_reference, detail, ?, ?
     FROM ${foundRows.sql}
     ON CONFLICT (gateway, fingerprint) DO UPDATE SET last_run_id = excluded.last_run_id,
       detail = excluded.detail
     RETURNING known.fingerprint, known.difference_id::text, known.first_run_id::text,
       known.explanation`,
    [gateway, runId, runId, foundRows.json(rows)],
  );
  const byFingerprint = new Map(filed.map((row) => [row.fingerprint, row]));
  return rows.map((row) => {
    const stored = byFingerprint.get(row.fingerprint)!;
    return {
      differenceId: stored.difference_id,
      isNew: stored.first_run_id === runId,
      explanation: stored.explanation,
    };
  });
}

export async function finishRecordedRun(
  trx: Knex.Transaction,
  runId: string,
  counts: { newDifferences: number; explained: number },
): Promise<void> {
  await trx.raw(
    `UPDATE gateway_reconciliation_runs SET new_differences = ?, explained = ? WHERE run_id = ?`,
    [counts.newDifferences, counts.explained, runId],
  );
}

export type ExplainOutcome =
  | { status: 'explained'; gateway: string; kind: string; reference: string }
  | { status: 'unknown' }
  | { status: 'already'; explanation: string; by: string | null; at: Date };

/** Marks a difference explained; one already explained keeps its first explanation. */
export async function explainDifference(
  db: Knex,
  differenceId: string,
  note: string,
  by: string | null,
): Promise<ExplainOutcome> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{
      rows: {
        gateway: string;
        kind: string;
        gateway_reference: string;
        explanation: string | null;
        explained_by: string | null;
        explained_at: Date | null;
      }[];
    }>(
      `SELECT gateway, kind, gateway_reference, explanation, explained_by, explained_at
       FROM gateway_reconciliation_differences WHERE difference_id = ? FOR UPDATE`,
      [differenceId],
    );
    const found = rows[0];
    if (!found) return { status: 'unknown' };
    if (found.explanation !== null)
      return {
        status: 'already',
        explanation: found.explanation,
        by: found.explained_by,
        at: found.explained_at!,
      };
    await trx.raw(
      `UPDATE gateway_reconciliation_differences
       SET explained_at = now(), explained_by = ?, explanation = ? WHERE difference_id = ?`,
      [by, note, differenceId],
    );
    return {
      status: 'explained',
      gateway: found.gateway,
      kind: found.kind,
      reference: found.gateway_reference,
    };
  });
}

export interface RecordedRunRow {
  runId: string;
  gateway: string;
  file: string;
  format: string;
  window: { from: string; to: string; toleranceMs: number };
  linesRead: number;
  matched: number;
  differences: number;
  newDifferences: number;
  explained: number;
  /** Differences of this run still unexplained now. */
  unexplainedNow: number;
  recordedAt: string;
}

/** The recorded runs, newest first (GET /reconciliation/gateway/runs). */
export async function listRecordedRuns(
  db: Knex,
  options: { gateway?: string; limit: number },
): Promise<RecordedRunRow[]> {
  const { rows } = await db.raw<{
    rows: {
      run_id: string;
      gateway: string;
      file_name: string;
      format: string;
      window_from: Date;
      window_to: Date;
      tolerance_ms: string;
      lines_read: string;
      matched: string;
      differences: string;
      new_differences: string;
      explained: string;
      unexplained_now: string;
      recorded_at: Date;
    }[];
  }>(
    `SELECT r.run_id::text, r.gateway, r.file_name, r.format, r.window_from, r.window_to,
       r.tolerance_ms::text, r.lines_read::text, r.matched::text, r.differences::text,
       r.new_differences::text, r.explained::text, r.recorded_at,
       (SELECT count(*) FROM gateway_reconciliation_differences d
        WHERE d.last_run_id = r.run_id AND d.explanation IS NULL)::text AS unexplained_now
     FROM gateway_reconciliation_runs r
     WHERE (?::text IS NULL OR r.gateway = ?)
     ORDER BY r.recorded_at DESC, r.run_id DESC LIMIT ?`,
    [options.gateway ?? null, options.gateway ?? null, options.limit],
  );
  return rows.map((row) => ({
    runId: row.run_id,
    gateway: row.gateway,
    file: row.file_name,
    format: row.format,
    window: {
      from: row.window_from.toISOString(),
      to: row.window_to.toISOString(),
      toleranceMs: Number(row.tolerance_ms),
    },
    linesRead: Number(row.lines_read),
    matched: Number(row.matched),
    differences: Number(row.differences),
    newDifferences: Number(row.new_differences),
    explained: Number(row.explained),
    unexplainedNow: Number(row.unexplained_now),
    recordedAt: row.recorded_at.toISOString(),
  }));
}
