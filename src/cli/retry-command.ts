/**
 * `escrow-worker payouts retry` and `escrow-worker refunds retry`: ask again
 * for payouts or refunds that failed. The work of one request is in
 * retry-disbursement.ts (one transaction each), its SQL in
 * src/store/disbursement-retries.ts; this file parses arguments, selects the
 * requests, wires the database from configuration and prints.
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { type Config, loadConfig } from '../config';
import { createKnex } from '../db/knex';
import { formatAmount, money } from '../domain/money';
import { renderTable } from '../format/text-table';
import {
  type DisbursementKind,
  failedRequests,
  requestCountOf,
} from '../store/disbursement-retries';
import { type CommandModule, UsageError } from './command';
import { type RetryResult, retryRequest } from './retry-disbursement';
import { words } from './retry-words';

export function usage(kind: DisbursementKind): string {
  const said = words[kind];
  const party = said.partyOption.padEnd(10);
  return `usage: escrow-worker ${said.command} retry (--outcome ID ... | ${said.partyOption} ID | --all-failed) [--dry-run]

Asks again for ${said.command} that failed (a ${said.failed} settlement): for each, a new
${said.requested} with a new outcomeId for the same money, published through the outbox, and the
failed request marked RETRIED. Nothing moves in the ledger: the money stays payable until the
new request is paid. A request is asked for again once: a second try (yours or another
operator's) is refused and names the request that replaced it.

options:
  --outcome ID     the outcomeId of a failed ${said.noun} (its ${said.requested}); repeat for several
  ${party} ID  every failed ${said.noun} to that ${said.party}
  --all-failed     every failed ${said.noun}
  --dry-run        print what would be requested; write nothing
  -h, --help       this text

exit: 0 every selected ${said.noun} asked for again (or none failed); 1 some could not be
(each refusal says why, on stderr); 2 usage.`;
}

export type Selection =
  | { readonly outcomeIds: readonly string[] }
  | { readonly partyId: string }
  | { readonly allFailed: true };

export type RetryInvocation =
  | { readonly command: 'help' }
  | { readonly command: 'retry'; readonly selection: Selection; readonly dryRun: boolean };

const options = {
  outcome: { type: 'string', multiple: true },
  provider: { type: 'string' },
  buyer: { type: 'string' },
  'all-failed': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Arguments after `payouts` / `refunds` → what to do; UsageError naming the problem otherwise. */
export function parseRetryArgs(kind: DisbursementKind, args: readonly string[]): RetryInvocation {
  const said = words[kind];
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (values.help === true || sub === 'help') return { command: 'help' };
  if (sub !== 'retry')
    throw new UsageError(
      sub === undefined
        ? `${said.command} needs a subcommand: retry`
        : `unknown subcommand ${JSON.stringify(sub)}: ${said.command} has retry`,
    );
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const otherOption = kind === 'PAYOUT' ? 'buyer' : 'provider';
  if (values[otherOption] !== undefined)
    throw new UsageError(
      `--${otherOption} selects ${words[kind === 'PAYOUT' ? 'REFUND' : 'PAYOUT'].command} (to a ` +
        `${otherOption}); ${said.command} go to a ${said.party}: give ${said.partyOption} ID`,
    );
  const partyId = kind === 'PAYOUT' ? values.provider : values.buyer;
  const given = [values.outcome, partyId, values['all-failed']].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw new UsageError(
      `${said.command} retry needs exactly one of --outcome ID, ${said.partyOption} ID or ` +
        `--all-failed${given.length > 1 ? ' (they select differently; run one at a time)' : ''}`,
    );
  const dryRun = values['dry-run'] === true;
  if (partyId !== undefined) {
    if (partyId.trim() === '') throw new UsageError(`${said.partyOption} needs a ${said.party} id`);
    return { command: 'retry', selection: { partyId }, dryRun };
  }
  if (values['all-failed'] === true)
    return { command: 'retry', selection: { allFailed: true }, dryRun };
  const outcomeIds = values.outcome!.flatMap((text) => text.split(',')).map((text) => text.trim());
  for (const id of outcomeIds)
    if (!uuid.test(id))
      throw new UsageError(
        `--outcome ${JSON.stringify(id)} is not an outcomeId: it is a UUID ` +
          `(0f3c2a9e-6b1d-4c8e-9a57-2d4e8b1c7f60), the outcomeId of the ${said.requested} that failed`,
      );
  // Outcome ids are made lower case; the payout service may send them back in upper case.
  return {
    command: 'retry',
    selection: { outcomeIds: [...new Set(outcomeIds.map((id) => id.toLowerCase()))] },
    dryRun,
  };
}

export interface RetryIo {
  readonly config: () => Config;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now?: () => Date;
}

/** The command: parses, selects, asks again for each selected request in turn, prints. */
export async function runRetry(
  kind: DisbursementKind,
  args: readonly string[],
  io: RetryIo,
): Promise<number> {
  const said = words[kind];
  const prefix = `escrow-worker ${said.command} retry`;
  let invocation: RetryInvocation;
  try {
    invocation = parseRetryArgs(kind, args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`${prefix}: ${error.message}\n\n${usage(kind)}\n`);
    return 2;
  }
  if (invocation.command === 'help') {
    io.stdout(`${usage(kind)}\n`);
    return 0;
  }
  const config = io.config();
  const db = createKnex(config, { poolMax: 2 });
  try {
    const selected = await select(db, kind, invocation.selection);
    if (typeof selected === 'string') {
      io.stderr(`${prefix}: ${selected}\n`);
      return 1;
    }
    if (selected.length === 0) {
      io.stdout(`${nothingFailed(kind, invocation.selection)}\n`);
      return 0;
    }
    const results: RetryResult[] = [];
    for (const outcomeId of selected) {
      results.push(
        await retryRequest(db, kind, outcomeId, {
          now: io.now?.() ?? new Date(),
          topicPrefix: config.TOPIC_PREFIX,
          dryRun: invocation.dryRun,
        }),
      );
    }
    report(kind, results, invocation.dryRun, io);
    return results.some((result) => result.status === 'refused') ? 1 : 0;
  } finally {
    await db.destroy();
  }
}

/** The outcome ids to retry, or why a named party cannot be right. */
async function select(
  db: Knex,
  kind: DisbursementKind,
  selection: Selection,
): Promise<readonly string[] | string> {
  if ('outcomeIds' in selection) return selection.outcomeIds;
  const partyId = 'partyId' in selection ? selection.partyId : null;
  const failed = await failedRequests(db, kind, partyId);
  if (failed.length === 0 && partyId !== null && (await requestCountOf(db, kind, partyId)) === 0) {
    const said = words[kind];
    return (
      `${said.partyOption} ${partyId}: no ${said.noun} to ${said.party} ${partyId} was ever ` +
      `requested; check the id (the ${said.party}Id of the order)`
    );
  }
  return failed.map((request) => request.outcomeId);
}

function nothingFailed(kind: DisbursementKind, selection: Selection): string {
  const said = words[kind];
  return 'partyId' in selection
    ? `nothing to retry: no ${said.noun} to ${said.party} ${selection.partyId} is FAILED`
    : `nothing to retry: no ${said.noun} is FAILED`;
}

function report(
  kind: DisbursementKind,
  results: readonly RetryResult[],
  dryRun: boolean,
  io: RetryIo,
) {
  const said = words[kind];
  const prefix = `escrow-worker ${said.command} retry`;
  const done = results.flatMap((result) => (result.status === 'refused' ? [] : [result]));
  const refused = results.length - done.length;
  if (done.length > 0) io.stdout(`${requestTable(kind, done).join('\n')}\n`);
  for (const result of done)
    if (result.referencesFrom !== null && result.referencesFrom !== 'request')
      io.stdout(
        `note: the gateway references of refund ${result.failed.outcomeId} were rebuilt from ` +
          `${result.referencesFrom === 'ledger' ? 'its ledger transaction' : "its milestone's applied payments"} ` +
          `(its REFUND_REQUESTED is no longer in the outbox)\n`,
      );
  for (const result of results)
    if (result.status === 'refused') io.stderr(`${prefix}: ${result.message}\n`);
  const plural = (count: number) => `${count} ${said.noun}${count === 1 ? '' : 's'}`;
  const summary = dryRun
    ? `dry run: ${plural(done.length)} would be asked for again; nothing was written`
    : done.length === 0
      ? `no ${said.noun} asked for again`
      : `${plural(done.length)} asked for again (${said.requested} in the outbox; the failed ` +
        `${done.length === 1 ? 'one is' : 'ones are'} RETRIED)`;
  io.stdout(`${summary}${refused > 0 ? `, ${refused} refused (why on stderr)` : ''}\n`);
}

type Done = Exclude<RetryResult, { status: 'refused' }>;

function requestTable(kind: DisbursementKind, done: readonly Done[]): string[] {
  const said = words[kind];
  const right = 'right' as const;
  const payout = kind === 'PAYOUT';
  const columns = [
    { title: `failed ${said.noun}` },
    { title: 'order' },
    { title: 'milestone' },
    { title: said.party },
    { title: 'currency' },
    ...(payout
      ? [
          { title: 'gross', align: right },
          { title: 'fee', align: right },
          { title: 'recovered', align: right },
          { title: 'net', align: right },
        ]
      : [{ title: 'amount', align: right }, { title: 'reason' }, { title: 'gateway references' }]),
    { title: 'failed because' },
    { title: 'new request' },
  ];
  const rows = done.map(({ failed, request, status }) => {
    const amount = (minor: string | null) =>
      formatAmount(money(failed.currency, BigInt(minor ?? '0')));
    const payload = request.payload as { gatewayReferences?: string[] };
    return [
      failed.outcomeId,
      failed.orderId,
      failed.milestoneId ?? '-',
      failed.partyId,
      failed.currency,
      ...(payout
        ? [
            amount(failed.grossMinor),
            amount(failed.feeMinor),
            amount(failed.recoveredMinor),
            amount(failed.amountMinor),
          ]
        : [
            amount(failed.amountMinor),
            failed.refundReason ?? '-',
            (payload.gatewayReferences ?? []).join(', ') || '-',
          ]),
      failed.failureReason ?? '-',
      status === 'requested' ? request.outcome_id : 'dry run',
    ];
  });
  return renderTable(columns, rows);
}

const processIo: RetryIo = {
  config: () => loadConfig(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export const payouts: CommandModule = { run: (args) => runRetry('PAYOUT', args, processIo) };
export const refunds: CommandModule = { run: (args) => runRetry('REFUND', args, processIo) };
