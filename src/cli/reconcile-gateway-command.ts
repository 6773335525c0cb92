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
import { plainFormat } from '../gateway-reconciliation/formats/plain';
import {
  differenceRow,
  differencesTable,
  jsonClosing,
  jsonOpening,
  summaryFooter,
  summaryHeader,
} from '../gateway-reconciliation/format-result';
import { BadReportFile, type ReportFormat } from '../gateway-reconciliation/report-line';
import {
  defaultEdgeToleranceMs,
  EmptyReportWindow,
  reconcileGateway,
} from '../gateway-reconciliation/run';
import { DurationError, durationText, parseDuration } from '../reconcile';
import { UsageError } from './command';

const formats: Record<string, ReportFormat> = { plain: plainFormat };

export const help = `usage: escrow-worker reconcile-gateway --gateway NAME --file FILE.csv [--format plain]
                                      [--from ISO] [--to ISO] [--edge-tolerance ${durationText(defaultEdgeToleranceMs)}]
                                      [--json] [--max-differences 100] [--progress]

Matches the gateway's own record of what moved (a settlement or balance report, CSV)
line by line against the ledger (DATABASE_URL), in one consistent snapshot: charges
with payments by (gateway, gateway reference), refunds and payouts with their
settlements, chargebacks and reversals with theirs. Each item is matched, only in the
file, only in the ledger, of another amount or currency, or twice in the file. Totals
per type, and the file's net against the ledger's gateway-clearing movement, follow.

options:
  --gateway NAME          the gateway, as the adapters name it in their events
  --file FILE             the report; read as a stream, any length
  --format NAME           ${Object.keys(formats).join(', ')} (default plain: the header
                          gateway_reference,type,amount,currency,occurred_at)
  --from ISO, --to ISO    the window (default: the file's first and last occurred_at)
  --edge-tolerance DUR    how far beyond the window a counterpart is looked for; items out
                          there are never reported missing (default ${durationText(defaultEdgeToleranceMs)})
  --json                  one JSON document on stdout, with every difference
  --max-differences N     differences listed in the table (all are counted), default 100
  --progress              lines read, on stderr, even when it is not a terminal
  -h, --help              this text

exit: 0 everything matches; 1 a difference; 2 a bad file (line and column named) or usage.
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
  };
}

export async function run(args: readonly string[]): Promise<number> {
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
      async (summary, differences) => {
        if (showProgress && process.stderr.isTTY) process.stderr.write('\n');
        if (options.json) {
          process.stdout.write(jsonOpening(summary));
          let first = true;
          for await (const difference of differences()) {
            const text = JSON.stringify(difference);
            if (!process.stdout.write(first ? text : `,${text}`))
              await new Promise((resolve) => process.stdout.once('drain', resolve));
            first = false;
          }
          process.stdout.write(jsonClosing);
        } else {
          const rows: string[][] = [];
          for await (const difference of differences()) {
            if (rows.length >= options.maxDifferences) break;
            rows.push(differenceRow(difference));
          }
          const lines = [...summaryHeader(summary)];
          if (rows.length > 0) lines.push('', ...differencesTable(rows));
          if (summary.differences > rows.length)
            lines.push(`(${summary.differences - rows.length} more not listed; --json lists all)`);
          lines.push(...summaryFooter(summary));
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return summary.differences === 0 ? 0 : 1;
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
