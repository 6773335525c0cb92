/**
 * The privileged path the reconciliation tests corrupt a database through: one
 * transaction as the superuser with session_replication_role = replica (the
 * ledger's append-only and foreign-key triggers do not fire), in which the
 * test corrupts, runs the reconciliation on that transaction's snapshot, and
 * rolls everything back, so every test starts from the same clean state.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { accountCode, type AccountRef } from '../../src/domain/escrow';
import { linkIntoChain } from '../support/ledger-chain';
import {
  type ReconcileOptions,
  type ReconciliationReport,
  runReconciliation,
} from '../../src/reconcile';

export async function reconcileCorrupted(
  db: Knex,
  corrupt: (trx: Knex.Transaction) => Promise<void>,
  options: Partial<ReconcileOptions> = {},
): Promise<ReconciliationReport> {
  const trx = await db.transaction();
  try {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await corrupt(trx);
    return await runReconciliation(trx, options);
  } finally {
    await trx.rollback();
  }
}

export const failingChecks = (report: ReconciliationReport): string[] =>
  report.checks.filter((check) => check.status !== 'ok').map((check) => check.name);

export const checkNamed = (report: ReconciliationReport, name: string) => {
  const check = report.checks.find((candidate) => candidate.name === name);
  if (!check) throw new Error(`the report has no check ${name}`);
  return check;
};

/** Drops the CHECK constraints of a table whose definition mentions `text` (rolled back with the rest). */
export async function dropChecks(
  trx: Knex.Transaction,
  table: string,
  text: string,
): Promise<void> {
  const { rows } = await trx.raw<{ rows: { conname: string }[] }>(
    `SELECT conname FROM pg_constraint
     WHERE conrelid = ?::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE ?`,
    [table, `%${text}%`],
  );
  if (rows.length === 0) throw new Error(`no CHECK on ${table} mentions ${text}`);
  for (const { conname } of rows)
    await trx.raw(`ALTER TABLE ?? DROP CONSTRAINT ??`, [table, conname]);
}

/**
 * Posts a ledger transaction the way the ledger service would (accounts created,
 * running balances and versions kept), but without any of its checks; with
 * `outcome`, also an outbox row naming it, as the pipeline would write.
 */
export async function postRaw(
  trx: Knex.Transaction,
  transaction: {
    kind: string;
    orderId?: string;
    milestoneId?: string;
    causeEventId: string;
    memo?: Record<string, string>;
    postings: { account: AccountRef; minor: bigint }[];
    outcome: boolean;
  },
): Promise<string> {
  const [row] = await trx('ledger_transactions')
    .insert({
      kind: transaction.kind,
      order_id: transaction.orderId ?? null,
      milestone_id: transaction.milestoneId ?? null,
      cause_event_id: transaction.causeEventId,
      cause_topic: 'escrow.reconciliation-test',
      memo: transaction.memo ?? {},
      // Placeholders: linked into its order's chain below, once its entries are there.
      previous_hash: '',
      hash: '0'.repeat(64),
    })
    .returning<{ transaction_id: string }[]>('transaction_id');
  const transactionId = row!.transaction_id;
  for (const { account, minor } of transaction.postings) {
    const code = accountCode(account);
    await trx('accounts')
      .insert({
        code,
        kind: account.kind,
        currency: account.currency,
        order_id: account.orderId ?? null,
        milestone_id: account.milestoneId ?? null,
        party_id: account.partyId ?? null,
      })
      .onConflict('code')
      .ignore();
    const stored = await trx('accounts').where({ code }).first<{
      account_id: string;
      balance_minor: string;
      version: string;
      maintains_balance: boolean;
    }>();
    const balance = BigInt(stored.balance_minor) + minor;
    const version = BigInt(stored.version) + 1n;
    if (stored.maintains_balance) {
      await trx('accounts')
        .where({ account_id: stored.account_id })
        .update({ balance_minor: balance.toString(), version: version.toString() });
    }
    await trx('ledger_entries').insert({
      transaction_id: transactionId,
      account_id: stored.account_id,
      currency: account.currency,
      amount_minor: minor.toString(),
      balance_after_minor: stored.maintains_balance ? balance.toString() : null,
      account_version: stored.maintains_balance ? version.toString() : null,
    });
  }
  await linkIntoChain(trx, transactionId);
  if (transaction.outcome) {
    const outcomeId = randomUUID();
    await trx('outbox').insert({
      outcome_id: outcomeId,
      topic: 'escrow.events.v1',
      message_key: transaction.orderId ?? '-',
      type: 'CORRECTION',
      payload: { outcomeId, ledgerTransactionId: transactionId },
      published_at: trx.fn.now(),
    });
  }
  return transactionId;
}
