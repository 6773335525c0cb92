/**
 * One gateway reconciliation: the file streamed into the run's transaction,
 * matched against the ledger, summarized, and its differences handed to
 * the caller page by page — all inside one REPEATABLE READ transaction, so
 * every figure comes from the same snapshot of the ledger, however long
 * the file takes to read.
 */
import type { Knex } from 'knex';
import {
  createReportTable,
  loadReportLines,
  matchReport,
  type MatchWindow,
  reportSpan,
} from './match';
import { readReport, type ReportReading } from './read-report';
import type { ReportFormat } from './report-line';
import {
  type CurrencyNet,
  currencyNets,
  readDifferences,
  type GatewayDifference,
  type OutcomeCounts,
  outcomeCounts,
  type TypeTotal,
  typeTotals,
} from './summarize';

/** How far beyond the window's edges counterparts are looked for, by default: two days. */
export const defaultEdgeToleranceMs = 2 * 24 * 3600 * 1000;

export interface GatewayRunOptions {
  readonly gateway: string;
  readonly file: string;
  readonly format: ReportFormat;
  readonly from?: Date;
  readonly to?: Date;
  readonly toleranceMs: number;
  readonly batchSize?: number;
  /** Called as the file is read (lines so far), for progress on stderr. */
  readonly onProgress?: (linesRead: number) => void;
}

export interface GatewaySummary {
  readonly gateway: string;
  readonly file: string;
  readonly format: string;
  readonly window: { from: string; to: string; toleranceMs: number };
  readonly lines: ReportReading;
  readonly counts: OutcomeCounts;
  readonly differences: number;
  readonly totals: TypeTotal[];
  readonly nets: CurrencyNet[];
}

/** A window for the ledger alone is needed when the file has no lines. */
export class EmptyReportWindow extends Error {
  readonly code = 'EMPTY_REPORT_WINDOW';
  readonly retryable = false;
  constructor() {
    super(
      'the file has no lines to reconcile, so it gives no window: pass --from and --to to ' +
        'check what the ledger holds for the gateway in that window',
    );
    this.name = 'EmptyReportWindow';
  }
}

/**
 * Runs the reconciliation; `withResult` gets the summary and a reader of the
 * differences while the snapshot is still open (it may also write, e.g. a
 * recorded run, in the same transaction), and its result is returned.
 */
export async function reconcileGateway<T>(
  db: Knex,
  options: GatewayRunOptions,
  withResult: (
    summary: GatewaySummary,
    differences: () => AsyncGenerator<GatewayDifference>,
    trx: Knex.Transaction,
  ) => Promise<T>,
): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await createReportTable(trx);
    const reading: ReportReading = { linesRead: 0, skipped: 0 };
    for await (const batch of readReport(
      options.file,
      options.format,
      options.batchSize ?? 5000,
      reading,
    )) {
      await loadReportLines(trx, batch);
      options.onProgress?.(reading.linesRead);
    }
    const span = options.from && options.to ? null : await reportSpan(trx);
    const from = options.from ?? span?.from;
    const to = options.to ?? span?.to;
    if (!from || !to) throw new EmptyReportWindow();
    const window: MatchWindow = { from, to, toleranceMs: options.toleranceMs };
    await matchReport(trx, options.gateway, window);
    const counts = await outcomeCounts(trx);
    const summary: GatewaySummary = {
      gateway: options.gateway,
      file: options.file,
      format: options.format.name,
      window: { from: from.toISOString(), to: to.toISOString(), toleranceMs: options.toleranceMs },
      lines: reading,
      counts,
      differences:
        counts.only_in_file + counts.only_in_ledger + counts.amount_differs + counts.twice_in_file,
      totals: await typeTotals(trx, window),
      nets: await currencyNets(trx, window),
    };
    const differences = () => readDifferences(trx, options.gateway);
    return withResult(summary, differences, trx);
  });
}
