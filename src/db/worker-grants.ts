/**
 * What the worker's role may do with each table: exactly the statements the
 * worker issues (src/pipeline, src/ledger, src/store, src/outbox, src/timers,
 * src/reconcile, src/views), nothing more. The ledger — its transactions,
 * entries and releases — is SELECT and INSERT only; an account's running
 * balance and version are the only columns of the ledger that ever change.
 * No DELETE but the relay's pruning of published outbox rows, TRUNCATE
 * nowhere, and no DDL (the owner keeps that, and adds fee policies); the
 * append-only triggers refuse changes to the ledger even to the owner.
 *
 * Every table of the schema must have an entry (an empty one for none):
 * `npm run migrate` refuses to grant while one has not, so a migration that
 * adds a table comes with its line here (migrations/README.md).
 */

export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

export interface TableGrant {
  /** Privileges on the whole table. */
  readonly table: readonly TablePrivilege[];
  /** UPDATE on these columns only (no table-wide UPDATE). */
  readonly updateColumns?: readonly string[];
  /** Identity columns whose sequence the worker draws from with nextval(). */
  readonly sequences?: readonly string[];
}

const readAppend = ['SELECT', 'INSERT'] as const;

export const workerGrants: Readonly<Record<string, TableGrant>> = {
  // The ledger: appended to, never changed (src/ledger/post-transactions.ts
  // draws the transaction ids itself, hence the sequence).
  ledger_transactions: { table: readAppend, sequences: ['transaction_id'] },
  ledger_entries: { table: readAppend },
  // Each order's chain head (src/ledger/post-transactions.ts): started, then moved on.
  ledger_chain_heads: { table: readAppend, updateColumns: ['hash', 'length'] },
  releases: { table: readAppend },
  // Created on first use; the balance and version under the row lock move with each entry.
  accounts: { table: readAppend, updateColumns: ['balance_minor', 'version'] },
  // Read at release; versions are added by an operator as the owner (`escrow-worker fees add`).
  fee_policies: { table: ['SELECT'] },
  // The working state (src/pipeline/batch-write.ts, src/store/order-writes.ts).
  orders: { table: readAppend, updateColumns: ['state'] },
  milestones: { table: ['SELECT', 'INSERT', 'UPDATE'] },
  payments: {
    table: readAppend,
    // src/pipeline/payments.ts paymentMergeColumns: what a later decision on a payment sets.
    updateColumns: [
      'status',
      'applied_minor',
      'refunded_minor',
      'ledger_transaction_id',
      'applied_at',
    ],
  },
  inbox: { table: readAppend, updateColumns: ['outcome', 'reason'] },
  kept_events: { table: readAppend, updateColumns: ['replayed_at', 'failed_reason', 'awaiting'] },
  // Payouts and refunds asked for, and what became of them (src/store/disbursements.ts);
  // `payouts retry` marks a failed one RETRIED and inserts its new request.
  disbursements: {
    table: readAppend,
    updateColumns: [
      'state',
      'failure_reason',
      'settlement_gateway',
      'settlement_reference',
      'settlement_event_id',
      'settled_at',
    ],
  },
  // Where each chargeback's money came from, what later releases recovered, its reversal.
  chargebacks: {
    table: readAppend,
    updateColumns: [
      'recovered_minor',
      'reversed',
      'reversal_event_id',
      'reversal_ledger_transaction_id',
      'reversed_at',
    ],
  },
  // Recorded by the operator's `reconcile-gateway --record`; the operations API lists them.
  gateway_reconciliation_runs: { table: ['SELECT'] },
  gateway_reconciliation_differences: { table: ['SELECT'] },
  // The relay marks rows published and prunes old published ones (src/outbox/relay.ts).
  outbox: { table: ['SELECT', 'INSERT', 'DELETE'], updateColumns: ['published_at'] },
  // Knex's bookkeeping is the owner's alone.
  knex_migrations: { table: [] },
  knex_migrations_lock: { table: [] },
};

/** One line per table, as `npm run migrate` prints the grants. */
export function describeGrant(table: string, grant: TableGrant): string {
  const parts: string[] = [...grant.table];
  if (grant.updateColumns) parts.push(`UPDATE (${grant.updateColumns.join(', ')})`);
  if (grant.sequences) parts.push(`USAGE on the sequence of ${grant.sequences.join(', ')}`);
  return `${table}: ${parts.length === 0 ? 'nothing' : parts.join(', ')}`;
}

/**
 * Whether the worker should hold `privilege` on `column` of `table` (SELECT,
 * INSERT, UPDATE, REFERENCES), or on the table itself when column is null
 * (DELETE, TRUNCATE, TRIGGER): what the grants above give, and only that.
 */
export function expectedPrivilege(
  grant: TableGrant,
  privilege: string,
  column: string | null,
): boolean {
  if ((grant.table as readonly string[]).includes(privilege)) return true;
  return privilege === 'UPDATE' && column !== null && (grant.updateColumns ?? []).includes(column);
}
