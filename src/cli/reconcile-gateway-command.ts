/**
 * `escrow-worker reconcile-gateway`: matches a gateway's own report (CSV)
 * line by line against the ledger (src/gateway-reconciliation) and prints
 * the differences, totals per type and the nets, or JSON with --json.
 * Progress goes to stderr. Exit 0 everything matches, 1 any difference, 2 a
 * bad file (its line and column named) or bad usage.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createKnex } from '../db/knex';
import { reportFormats } from '../gateway-reconciliation/formats';
import {
  differenceRow,
  differencesTable,
  jsonOpening,
  summaryFooter,
  summaryHeader,
} from '../gateway-reconciliation/format-result';
import {
  explainDifference,
  finishRecordedRun,
  type RecordedDifference,
  recordDifferences,
  startRecordedRun,
} from '../gateway-reconciliation/record';
import { BadReportFile, type ReportFormat } from '../gateway-reconciliation/report-line';
import {
  defaultEdgeToleranceMs,
  EmptyReportWindow,
  type GatewaySummary,
  reconcileGateway,
} from '../gateway-reconciliation/run';
import type { GatewayDifference } from '../gateway-reconciliation/summarize';
import { DurationError, durationText, parseDuration } from '../reconcile';
import { UsageError } from './command';

const formats: Readonly<Record<string, ReportFormat>> = reportFormats;

export const help = `usage: escrow-worker reconcile-gateway --gateway NAME --file FILE.csv [--format plain]
                                      [--from ISO] [--to ISO] [--edge-tolerance ${durationText(defaultEdgeToleranceMs)}]
                                      [--json] [--max-differences 100] [--progress] [--record]
       escrow-worker reconcile-gateway explain ID --note TEXT [--by NAME]

Matches the gateway's own record of what moved (a settlement or balance report, CSV)
line by line against the ledger (DATABASE_URL), in one consistent snapshot: charges
with payments by (gateway, gateway reference), refunds and payouts with their
settlements, chargebacks and reversals with theirs. Each item is matched, only in the
file, only in the ledger, of another amount or currency, or twice in the file. Totals
per type, and the file's net against the ledger's gateway-clearing movement, follow.

options:
  --gateway NAME          the gateway, as the adapters name it in their events
  --file FILE             the report; read as a stream, any length
  --format NAME           plain (default: the header gateway_reference,type,amount,currency,
                          occurred_at), stripe (its itemized balance-change and payouts
                          reports) or adyen (its settlement details report); the mapping of
                          each is in docs/reconciliation.md
  --from ISO, --to ISO    the window (default: the file's first and last occurred_at)
  --edge-tolerance DUR    how far beyond the window a counterpart is looked for; items out
                          there are never reported missing (default ${durationText(defaultEdgeToleranceMs)})
  --json                  one JSON document on stdout, with every difference
  --max-differences N     differences listed in the table (all are counted), default 100
  --progress              lines read, on stderr, even when it is not a terminal
  --record                keep the run and its differences (GET /reconciliation/gateway/runs):
                          each difference gets an id that stays the same across runs, new
                          ones are marked, explained ones are no longer listed
  -h, --help              this text

explain ID --note TEXT    marks a recorded difference explained (who: --by, default $USER);
                          later runs stop listing it while its amounts stay the same

exit: 0 everything matches (with --record: every difference explained); 1 a difference;
2 a bad file (line and column named) or usage. explain: 0 done, 1 unknown or already explained.
`;

interface GatewayArguments {
  gateway: string;
  file: string;
  format: ReportFormat;
  from?: Date;
  to?: Date;
  toleranceMs: number;
  json: boolean;
  maxDifferences: number;
  progress: boolean;
  record: boolean;
}

function instant(value: string | undefined, option: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (
    !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) ||
    Number.isNaN(parsed.getTime())
  )
    throw new UsageError(
      `--${option} "${value}" is not an ISO-8601 date or instant such as 2026-03-01T00:00:00Z`,
    );
  return parsed;
}

export function parseGatewayArguments(args: readonly string[]): GatewayArguments | 'help' {
  const { values } = parseArgs({
    args: [...args],
    options: {
      gateway: { type: 'string' },
      file: { type: 'string' },
      format: { type: 'string', default: 'plain' },
      from: { type: 'string' },
      to: { type: 'string' },
      'edge-tolerance': { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-differences': { type: 'string', default: '100' },
      progress: { type: 'boolean', default: false },
      record: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (!values.gateway)
    throw new UsageError('--gateway is required: the gateway the report is from');
  if (!values.file) throw new UsageError('--file is required: the report to reconcile');
  const format = formats[values.format];
  if (!format)
    throw new UsageError(
      `--format "${values.format}" is not one of ${Object.keys(formats).join(', ')}`,
    );
  const from = instant(values.from, 'from');
  const to = instant(values.to, 'to');
  if (from && to && from > to) throw new UsageError('--from is after --to');
  let toleranceMs = defaultEdgeToleranceMs;
  if (values['edge-tolerance'] !== undefined) {
    try {
      toleranceMs = parseDuration(values['edge-tolerance']);
    } catch (error) {
      if (error instanceof DurationError)
        throw new UsageError(`--edge-tolerance: ${error.message}`);
      throw error;
    }
  }
  const maxDifferences = Number(values['max-differences']);
  if (!Number.isInteger(maxDifferences) || maxDifferences < 0)
    throw new UsageError('--max-differences must be a whole number');
  return {
    gateway: values.gateway,
    file: values.file,
    format,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    toleranceMs,
    json: values.json,
    maxDifferences,
    progress: values.progress,
    record: values.record,
  };
}

export async function run(args: readonly string[]): Promise<number> {
  if (args[0] === 'explain') return explain(args.slice(1));
  let parsed: GatewayArguments | 'help';
  try {
    parsed = parseGatewayArguments(args);
  } catch (error) {
    process.stderr.write(`escrow-worker reconcile-gateway: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(help);
    return 0;
  }
  const options = parsed;
  const db = createKnex(loadConfig(), { poolMax: 1 });
  const showProgress = options.progress || process.stderr.isTTY;
  let reported = 0;
  try {
    return await reconcileGateway(
      db,
      {
        ...options,
        onProgress: (lines) => {
          // Every 100,000 lines: one line each on a log, one line rewritten on a terminal.
          if (!showProgress || Math.floor(lines / 100_000) === reported) return;
          reported = Math.floor(lines / 100_000);
          const end = process.stderr.isTTY ? '' : '\n';
          process.stderr.write(
            `${process.stderr.isTTY ? '\r' : ''}reconcile-gateway: ${lines} lines read${end}`,
          );
        },
      },
      async (summary, differences, trx) => {
        if (showProgress && process.stderr.isTTY) process.stderr.write('\n');
        const runId = options.record ? await startRecordedRun(trx, summary) : null;
        const output = options.json
          ? jsonOutput(summary, runId)
          : tableOutput(summary, options, runId);
        let unexplained = 0;
        let newDifferences = 0;
        for await (const page of pages(differences(), 500)) {
          const recorded =
            runId === null ? null : await recordDifferences(trx, runId, options.gateway, page);
          for (const [index, difference] of page.entries()) {
            const standing = recorded?.[index] ?? null;
            if (standing?.isNew) newDifferences += 1;
            if (standing?.explanation) continue;
            unexplained += 1;
            await output.difference(difference, standing);
          }
        }
        if (runId !== null)
          await finishRecordedRun(trx, runId, {
            newDifferences,
            explained: summary.differences - unexplained,
          });
        output.finish({ unexplained, newDifferences, runId });
        return unexplained === 0 ? 0 : 1;
      },
    );
  } catch (error) {
    if (error instanceof BadReportFile || error instanceof EmptyReportWindow) {
      process.stderr.write(`escrow-worker reconcile-gateway: ${options.file}: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

/** The differences in pages, so each page is recorded in one statement. */
async function* pages<T>(items: AsyncGenerator<T>, size: number): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const item of items) {
    page.push(item);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

interface Output {
  difference(difference: GatewayDifference, standing: RecordedDifference | null): Promise<void>;
  finish(result: { unexplained: number; newDifferences: number; runId: string | null }): void;
}

async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text))
    await new Promise((resolve) => process.stdout.once('drain', resolve));
}

function jsonOutput(summary: GatewaySummary, runId: string | null): Output {
  let first = true;
  process.stdout.write(jsonOpening(summary, runId === null ? {} : { runId }));
  return {
    async difference(difference, standing) {
      const entry = standing
        ? { ...difference, differenceId: standing.differenceId, isNew: standing.isNew }
        : difference;
      await writeOut(`${first ? '' : ','}${JSON.stringify(entry)}`);
      first = false;
    },
    finish({ unexplained, newDifferences }) {
      process.stdout.write(`],"unexplained":${unexplained},"newDifferences":${newDifferences}}\n`);
    },
  };
}

function tableOutput(
  summary: GatewaySummary,
  options: GatewayArguments,
  runId: string | null,
): Output {
  const rows: string[][] = [];
  return {
    difference(difference, standing) {
      if (rows.length < options.maxDifferences) {
        const row = differenceRow(difference);
        rows.push(
          standing ? [standing.differenceId, standing.isNew ? 'new' : 'known', ...row] : row,
        );
      }
      return Promise.resolve();
    },
    finish({ unexplained, newDifferences }) {
      const lines = [...summaryHeader(summary)];
      if (runId !== null) {
        lines.push(
          `recorded as run ${runId}: ${newDifferences} new difference(s), ` +
            `${summary.differences - unexplained} explained earlier and not listed`,
        );
      }
      if (rows.length > 0) lines.push('', ...differencesTable(rows, runId !== null));
      if (unexplained > rows.length)
        lines.push(`(${unexplained - rows.length} more not listed; --json lists all)`);
      lines.push(...summaryFooter(summary, unexplained));
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  };
}

const explainHelp = 'usage: escrow-worker reconcile-gateway explain ID --note TEXT [--by NAME]\n';

async function explain(args: readonly string[]): Promise<number> {
  let values: { note?: string; by?: string; help: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        note: { type: 'string' },
        by: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(
      `escrow-worker reconcile-gateway explain: ${(error as Error).message}\n${explainHelp}`,
    );
    return 2;
  }
  if (values.help) {
    process.stdout.write(explainHelp);
    return 0;
  }
  const [id, ...extra] = positionals;
  const note = values.note?.trim() ?? '';
  const problem =
    id === undefined || !/^\d{1,18}$/.test(id) || extra.length > 0
      ? 'give the id of one recorded difference (the number in the first column of a --record run)'
      : note.length === 0 || note.length > 2000
        ? '--note is required: 1 to 2000 characters saying why the difference is not an error'
        : null;
  if (problem !== null) {
    process.stderr.write(`escrow-worker reconcile-gateway explain: ${problem}\n${explainHelp}`);
    return 2;
  }
  const db = createKnex(loadConfig(), { poolMax: 1 });
  try {
    const outcome = await explainDifference(db, id!, note, values.by ?? process.env.USER ?? null);
    if (outcome.status === 'unknown') {
      process.stderr.write(
        `escrow-worker reconcile-gateway explain: no recorded difference ${id}\n`,
      );
      return 1;
    }
    if (outcome.status === 'already') {
      process.stderr.write(
        `escrow-worker reconcile-gateway explain: difference ${id} was explained already ` +
          `(${outcome.at.toISOString()}${outcome.by ? ` by ${outcome.by}` : ''}: "${outcome.explanation}")\n`,
      );
      return 1;
    }
    process.stdout.write(
      `difference ${id} (${outcome.kind} ${outcome.reference} at ${outcome.gateway}) explained; ` +
        'later runs no longer list it\n',
    );
    return 0;
  } finally {
    await db.destroy();
  }
}
