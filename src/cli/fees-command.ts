/**
 * `escrow-worker fees`: the fee policy versions, and adding an effective-dated
 * one. The work is in src/fees/ (storage, text → policy, printing) and the
 * rules in src/domain/fees; this file parses arguments, wires the database
 * from configuration and prints.
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../config';
import { createKnex } from '../db/knex';
import { FeePolicyError } from '../domain/fees';
import { newPolicyTable, policiesTable, policyJson, policyStatus } from '../fees/format-policies';
import { FeePolicyInputError, type NewFeePolicy, newFeePolicyFromText } from '../fees/policy-input';
import { addFeePolicy, listFeePolicies } from '../fees/policy-store';
import { UsageError } from './command';

export const usage = `usage:
  escrow-worker fees list [--json]
  escrow-worker fees add --effective-from ISO --rate R [--minimum CUR=AMOUNT ...]
                         [--tier VOLUME=RATE ...] [--volume-window-days N]
                         [--dispute-fee CUR=AMOUNT ...] [--note TEXT] [--dry-run] [--json]

list   every version: id, effective from, status (in force, scheduled, superseded), rate,
       minimum fee per currency, volume tiers, volume window, dispute fee per currency, note;
       and the default policy (PLATFORM_FEE_RATE) that applies until the first version starts.
add    stores a new version. --effective-from is an ISO-8601 instant with a zone
       (2026-12-01T00:00:00Z), not in the past and later than every stored version;
       --rate a fraction in [0, 1) ("0.08" for 8%); --minimum and --dispute-fee one amount per
       currency in major units (USD=1.00); --tier a provider's released volume over the window
       (default 30 days) from which a rate replaces the base rate (10000.00=0.07), in
       increasing order. --dry-run validates against the stored versions and stores nothing.
       A version is never edited: to change a scheduled one, add a later one.`;

export type FeesInvocation =
  | { readonly command: 'help' }
  | { readonly command: 'list'; readonly json: boolean }
  | {
      readonly command: 'add';
      readonly policy: NewFeePolicy;
      readonly dryRun: boolean;
      readonly json: boolean;
    };

const options = {
  json: { type: 'boolean' },
  'effective-from': { type: 'string' },
  rate: { type: 'string' },
  minimum: { type: 'string', multiple: true },
  tier: { type: 'string', multiple: true },
  'volume-window-days': { type: 'string' },
  'dispute-fee': { type: 'string', multiple: true },
  note: { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Arguments after `fees` → what to do; UsageError naming the problem otherwise. */
export function parseFeesArgs(args: readonly string[]): FeesInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (values.help === true || sub === 'help') return { command: 'help' };
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const json = values.json === true;
  if (sub === 'list') {
    const given = Object.keys(values).filter((name) => name !== 'json');
    if (given.length > 0)
      throw new UsageError(`--${given.join(', --')} does not apply to fees list`);
    return { command: 'list', json };
  }
  if (sub === 'add') {
    const missing = (['effective-from', 'rate'] as const).filter(
      (name) => values[name] === undefined,
    );
    if (missing.length > 0) throw new UsageError(`fees add needs --${missing.join(' and --')}`);
    try {
      const policy = newFeePolicyFromText({
        effectiveFrom: values['effective-from']!,
        rate: values.rate!,
        minimums: values.minimum,
        tiers: values.tier,
        volumeWindowDays: values['volume-window-days'],
        disputeFees: values['dispute-fee'],
        note: values.note,
      });
      return { command: 'add', policy, dryRun: values['dry-run'] === true, json };
    } catch (error) {
      if (error instanceof FeePolicyInputError) throw new UsageError(error.message);
      throw error;
    }
  }
  throw new UsageError(
    sub === undefined
      ? 'fees needs a subcommand: list or add'
      : `unknown subcommand ${JSON.stringify(sub)}`,
  );
}

export async function run(args: readonly string[]): Promise<number> {
  let invocation: FeesInvocation;
  try {
    invocation = parseFeesArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`escrow-worker fees: ${error.message}\n\n${usage}\n`);
    return 2;
  }
  if (invocation.command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const config = loadConfig();
  const db = createKnex(config, { poolMax: 2 });
  try {
    return invocation.command === 'list'
      ? await list(db, config, invocation.json)
      : await add(db, invocation);
  } catch (error) {
    if (!(error instanceof FeePolicyError)) throw error;
    process.stderr.write(`escrow-worker fees: ${error.message}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}

async function list(db: Knex, config: Config, json: boolean) {
  const policies = await listFeePolicies(db);
  const now = new Date();
  const rate = config.PLATFORM_FEE_RATE;
  if (!json) {
    process.stdout.write(`${policiesTable(policies, now, rate)}\n`);
    return 0;
  }
  const versions = policies.map((policy) =>
    policyJson(policy, policyStatus(policy, policies, now, rate)),
  );
  const inForce = versions.find((version) => version.status === 'in force');
  const report = {
    now: now.toISOString(),
    defaultRate: rate,
    inForcePolicyId: inForce?.policyId ?? null,
    versions,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return 0;
}

async function add(db: Knex, invocation: Extract<FeesInvocation, { command: 'add' }>) {
  const result = await addFeePolicy(db, invocation.policy, { dryRun: invocation.dryRun });
  const started = result.policy.effectiveFrom.getTime() <= Date.now();
  const status = !result.stored
    ? 'valid (dry run, not stored)'
    : started
      ? 'in force'
      : 'scheduled';
  if (invocation.json) {
    process.stdout.write(`${JSON.stringify(policyJson(result.policy, status))}\n`);
    return 0;
  }
  const policy = result.policy;
  process.stdout.write(
    `${newPolicyTable(policy, status)}\n` +
      (result.stored
        ? `stored fee policy ${policy.policyId} (effective from ${policy.effectiveFrom.toISOString()})\n`
        : 'dry run: valid against the stored versions; nothing was stored\n'),
  );
  return 0;
}
