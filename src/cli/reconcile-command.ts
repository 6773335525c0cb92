/**
 * `escrow-worker reconcile`: runs the reconciliation (src/reconcile) against
 * DATABASE_URL and prints the table, or JSON with --json, on stdout. Progress
 * goes to stderr, only on a terminal or with --progress, so stdout stays
 * machine-readable. Exit 0 clean, 1 any discrepancy (or no database), 2 usage.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createKnex } from '../db/knex';
import {
  DurationError,
  defaultReconcileOptions,
  durationText,
  formatReport,
  parseDuration,
  ReconcileError,
  type ReconcileOptions,
  type ReconcileProgress,
  runReconciliation,
} from '../reconcile';
import { parseAsOf } from '../ops/query-parameters';
import { formatAsOfReport, reconcileAsOf } from '../reconcile/as-of';
import { UsageError } from './command';

const d = defaultReconcileOptions;
export const help = `usage: escrow-worker reconcile [--json] [--progress] [--unmatched-after ${durationText(d.unmatchedPaymentAfterMs)}]
                              [--outbox-after ${durationText(d.outboxUnpublishedAfterMs)}] [--stuck-after ${durationText(d.stuckFundsAfterMs)}]
                              [--unsettled-after ${durationText(d.unsettledRequestAfterMs)}] [--failed-after ${durationText(d.failedNotRetriedAfterMs)}]
                              [--receivable-after ${durationText(d.receivableOutstandingAfterMs)}] [--refused-within ${durationText(d.refusedSettlementWindowMs)}]
                              [--max-examples ${d.maxExamplesPerCheck}] [--as-of ISO]

Checks every invariant of DESIGN.md against the database (DATABASE_URL), read-only,
in one consistent snapshot: ledger transactions and the whole ledger net to zero;
milestone totals conserve funds, agree with the ledger and explain the state; each
confirmed payment is in the ledger exactly once; no escrow, disputed or payable
balance is negative; no escrow money without its milestone; every ledger change
has its outcome in the outbox. After escrow: each payable holds exactly what its
open payout or refund requests ask for; each request is settled at most once; a
provider receivable is what standing chargebacks leave to recover; each chargeback
took and its reversal returned exactly its parts; gateway clearing equals money
received less money paid out, refunded and charged back.

Findings past a threshold are discrepancies too (exit 1): payments and kept events
still unmatched after --unmatched-after, outbox rows unpublished after
--outbox-after, funds held in escrow or dispute longer than --stuck-after (the
report also shows all funds in escrow by age), payouts and refunds neither paid
nor failed after --unsettled-after, failed ones not asked for again after
--failed-after, receivables still owed --receivable-after after their chargeback
(all of them shown by age), settlements kept for an unknown outcome or a missing
payment after --unmatched-after, and settlements refused INVALID_STATE or
SETTLEMENT_MISMATCH within --refused-within.

options:
  --json                  the report as JSON on stdout (amounts as "1000.00 USD")
  --progress              progress on stderr even when it is not a terminal
  --unmatched-after DUR   default ${durationText(d.unmatchedPaymentAfterMs)}
  --outbox-after DUR      default ${durationText(d.outboxUnpublishedAfterMs)}
  --stuck-after DUR       default ${durationText(d.stuckFundsAfterMs)}
  --unsettled-after DUR   default ${durationText(d.unsettledRequestAfterMs)}
  --failed-after DUR      default ${durationText(d.failedNotRetriedAfterMs)}
  --receivable-after DUR  default ${durationText(d.receivableOutstandingAfterMs)}
  --refused-within DUR    default ${durationText(d.refusedSettlementWindowMs)}
  --max-examples N        discrepancies listed per check (all are counted), default ${d.maxExamplesPerCheck}
  --as-of ISO             the ledger as it stood at a past moment (2026-06-01T09:30:00Z): each
                          transaction and the whole ledger net to zero, no escrow, disputed or
                          payable account below zero, and the balances by account kind; the
                          checks of current rows are not run
  -h, --help              this text
DUR is a number and a unit (ms, s, m, h, d, w), or several: 90s, 5m, 1h30m, 30d.

exit: 0 clean; 1 a discrepancy, or the database unreachable or not migrated; 2 usage.
`;

export interface ReconcileArguments {
  help: boolean;
  json: boolean;
  progress: boolean;
  options: Partial<ReconcileOptions>;
  /** --as-of: the ledger's own checks at a past moment (src/reconcile/as-of.ts). */
  asOf?: string;
}

/** Each duration flag and the option it sets. */
const durationFlags = [
  ['unmatched-after', 'unmatchedPaymentAfterMs'],
  ['outbox-after', 'outboxUnpublishedAfterMs'],
  ['stuck-after', 'stuckFundsAfterMs'],
  ['unsettled-after', 'unsettledRequestAfterMs'],
  ['failed-after', 'failedNotRetriedAfterMs'],
  ['receivable-after', 'receivableOutstandingAfterMs'],
  ['refused-within', 'refusedSettlementWindowMs'],
] as const;

/** Pure: the arguments after `reconcile` → what to do; throws UsageError or DurationError. */
export function parseReconcileArgs(args: readonly string[]): ReconcileArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean', default: false },
        progress: { type: 'boolean', default: false },
        'unmatched-after': { type: 'string' },
        'outbox-after': { type: 'string' },
        'stuck-after': { type: 'string' },
        'unsettled-after': { type: 'string' },
        'failed-after': { type: 'string' },
        'receivable-after': { type: 'string' },
        'refused-within': { type: 'string' },
        'max-examples': { type: 'string' },
        'as-of': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const options: Partial<ReconcileOptions> = {};
  for (const [flag, option] of durationFlags) {
    const value = values[flag];
    if (value !== undefined) options[option] = parseDuration(value);
  }
  const examples = values['max-examples'];
  if (examples !== undefined) {
    if (!/^\d{1,6}$/.test(examples)) {
      throw new UsageError(
        `--max-examples ${JSON.stringify(examples)} is not a whole number; use e.g. 20`,
      );
    }
    options.maxExamplesPerCheck = Number(examples);
  }
  let asOf: string | undefined;
  if (values['as-of'] !== undefined) {
    const parsed = parseAsOf(values['as-of'], new Date());
    if (!parsed.ok) throw new UsageError(`--as-of: ${parsed.problem.error.replace(/^asOf /, '')}`);
    asOf = parsed.value!.text;
  }
  return {
    help: values.help,
    json: values.json,
    progress: values.progress,
    options,
    ...(asOf === undefined ? {} : { asOf }),
  };
}

/** Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
function progressPrinter(stream: NodeJS.WriteStream): {
  onProgress: (progress: ReconcileProgress) => void;
  finish: () => void;
} {
  const terminal = stream.isTTY === true;
  let lastCheck = '';
  let lastDone = -1;
  let lastAt = 0;
  return {
    onProgress(progress) {
      const finished = progress.total !== undefined && progress.done >= progress.total;
      const now = Date.now();
      const same = progress.check === lastCheck;
      if (same && progress.done === lastDone) return;
      if (same && !finished && now - lastAt < (terminal ? 200 : 5000)) return;
      lastCheck = progress.check;
      lastDone = progress.done;
      lastAt = now;
      const of = progress.total === undefined ? '' : ` of ${progress.total}`;
      const share = progress.total
        ? ` (${Math.floor((progress.done * 100) / progress.total)}%)`
        : '';
      const line = `reconcile: ${progress.check}: ${progress.done}${of}${share}`;
      stream.write(terminal ? `\r\x1b[K${line}` : `${line}\n`);
    },
    finish() {
      if (terminal) stream.write('\r\x1b[K');
    },
  };
}

/** The database URL without its password, to say which database could not be used. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export async function run(args: readonly string[]): Promise<number> {
  let parsed: ReconcileArguments;
  try {
    parsed = parseReconcileArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof DurationError)) throw error;
    process.stderr.write(`escrow-worker reconcile: ${error.message}\n\n${help}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(help);
    return 0;
  }
  const config = loadConfig();
  // One connection: the whole report reads one snapshot in one transaction.
  const db = createKnex(config, { poolMax: 1 });
  const progress =
    parsed.progress || process.stderr.isTTY ? progressPrinter(process.stderr) : undefined;
  try {
    if (parsed.asOf !== undefined) {
      const report = await reconcileAsOf(db, parsed.asOf, parsed.options.maxExamplesPerCheck);
      process.stdout.write(
        parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatAsOfReport(report),
      );
      return report.clean ? 0 : 1;
    }
    const report = await runReconciliation(db, {
      ...parsed.options,
      ...(progress ? { onProgress: progress.onProgress } : {}),
    });
    progress?.finish();
    process.stdout.write(
      parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
    );
    return report.clean ? 0 : 1;
  } catch (error) {
    progress?.finish();
    if (!(error instanceof ReconcileError)) throw error;
    process.stderr.write(
      `escrow-worker reconcile: ${error.message} (DATABASE_URL ${shownUrl(config.DATABASE_URL)})\n`,
    );
    return 1;
  } finally {
    await db.destroy();
  }
}
