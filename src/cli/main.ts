#!/usr/bin/env node
/**
 * The `escrow-worker` command line: operator tools beside the worker.
 *
 *   escrow-worker reconcile [--json]          the reconciliation report (exit 1 on a discrepancy)
 *   escrow-worker reconcile-gateway ...       a gateway's report matched against the ledger
 *   escrow-worker liquidity [--as-of ISO]     where the platform's money is, per currency
 *   escrow-worker dlq list | dlq replay ...   dead-lettered messages, and re-publishing them
 *   escrow-worker fees list | fees add ...    fee policy versions
 *   escrow-worker schemas register | check    the registry steps of a deploy pipeline
 *   escrow-worker payouts retry | refunds retry  ask again for failed payouts or refunds
 *
 * Without a build: `npm run escrow-worker -- <command>`. Every command reads the
 * worker's configuration (DATABASE_URL, KAFKA_BROKERS, ...) from the environment.
 */
import type { CommandModule } from './command';

const commands: Record<string, () => Promise<CommandModule>> = {
  reconcile: () => import('./reconcile-command'),
  'reconcile-gateway': () => import('./reconcile-gateway-command'),
  liquidity: () => import('./liquidity-command'),
  dlq: () => import('./dlq-command'),
  fees: () => import('./fees-command'),
  schemas: () => import('./schemas-command'),
  payouts: () => import('./retry-command').then((module) => module.payouts),
  refunds: () => import('./retry-command').then((module) => module.refunds),
};

const usage = `usage: escrow-worker <command> [options]

commands:
  reconcile [--json]                 check every ledger invariant; exit 0 when clean, 1 otherwise
  reconcile-gateway --gateway NAME --file FILE.csv [--format F] [--from ISO --to ISO] [--json]
                                     match a gateway's report against the ledger; exit 0 all
                                     matched, 1 a difference, 2 a bad file
  liquidity [--as-of ISO] [--json]   where the money is, per currency, now or at a past moment
  dlq list [--limit N] [--reason TEXT] [--json]
                                     list dead-lettered messages with their reasons and state
  dlq replay --id P:O[,P:O] | --all [--reason TEXT] [--dry-run] [--force]
                                     re-publish dead-lettered messages to their source topic
  fees list [--json]                 show the fee policy versions
  fees add --effective-from ISO --rate R [...]
                                     add an effective-dated fee policy version
  schemas register | check [--json]  register the topics' schemas, or check they are registered
                                     and compatible (for SCHEMA_AUTO_REGISTER=false deployments)
  payouts retry --outcome ID | --provider ID | --all-failed [--dry-run]
                                     ask again for failed payouts: a new PAYOUT_REQUESTED each
  refunds retry --outcome ID | --buyer ID | --all-failed [--dry-run]
                                     ask again for failed refunds: a new REFUND_REQUESTED each

'escrow-worker <command> --help' describes a command's options.`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`escrow-worker: unknown command "${name}"\n\n${usage}\n`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `escrow-worker: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
