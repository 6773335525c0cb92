/**
 * Runs every check in one read-only, repeatable-read transaction, so the whole
 * report describes one consistent snapshot however long the scans take and
 * however busy the worker is meanwhile. Called inside a caller's transaction,
 * it reads that transaction's snapshot instead (tests use it to see their own
 * uncommitted corruption).
 */
import type { Knex } from 'knex';
import { allChecks } from './checks';
import { ReconcileError, unreachableDatabase } from './errors';
import {
  type AgeBucket,
  type Check,
  type CheckResult,
  defaultReconcileOptions,
  type ReceivableAgeBucket,
  type ReconcileOptions,
  type ReconciliationReport,
  type ReconciliationTotals,
} from './types';

const requiredTables = [
  'orders',
  'milestones',
  'payments',
  'accounts',
  'ledger_transactions',
  'ledger_entries',
  'releases',
  'inbox',
  'outbox',
  'kept_events',
  'disbursements',
  'chargebacks',
];

export async function runReconciliation(
  db: Knex,
  options: Partial<ReconcileOptions> = {},
): Promise<ReconciliationReport> {
  const settings: ReconcileOptions = { ...defaultReconcileOptions, now: new Date(), ...options };
  if (!Number.isSafeInteger(settings.chunkSize) || settings.chunkSize < 1) {
    throw new ReconcileError(
      'INVALID_OPTIONS',
      `chunkSize ${settings.chunkSize} is not a positive whole number; use e.g. 5000`,
    );
  }
  const started = Date.now();
  const work = async (snapshot: Knex) => {
    await assertMigrated(snapshot);
    const totals = await countTotals(snapshot);
    const checks: CheckResult[] = [];
    for (const check of allChecks) checks.push(await runCheck(check, snapshot, settings, totals));
    return {
      generatedAt: settings.now.toISOString(),
      clean: checks.every((check) => check.status === 'ok'),
      thresholds: {
        unmatchedPaymentAfterMs: settings.unmatchedPaymentAfterMs,
        outboxUnpublishedAfterMs: settings.outboxUnpublishedAfterMs,
        stuckFundsAfterMs: settings.stuckFundsAfterMs,
        outcomeWindowMs: settings.outcomeWindowMs,
        unsettledRequestAfterMs: settings.unsettledRequestAfterMs,
        failedNotRetriedAfterMs: settings.failedNotRetriedAfterMs,
        receivableOutstandingAfterMs: settings.receivableOutstandingAfterMs,
        refusedSettlementWindowMs: settings.refusedSettlementWindowMs,
      },
      totals,
      checks,
      elapsedMs: Date.now() - started,
    };
  };
  if (db.isTransaction) return work(db);
  try {
    return await db.transaction(
      async (snapshot) => {
        // Thousands of small chunk queries: compiling each (JIT) or starting parallel
        // workers for each costs more than the query itself.
        await snapshot.raw('SET LOCAL jit = off');
        await snapshot.raw('SET LOCAL max_parallel_workers_per_gather = 0');
        return work(snapshot);
      },
      { isolationLevel: 'repeatable read', readOnly: true },
    );
  } catch (error) {
    throw unreachableDatabase(error) ?? error;
  }
}

async function runCheck(
  check: Check,
  db: Knex,
  options: ReconcileOptions,
  totals: ReconciliationTotals,
): Promise<CheckResult> {
  const examples: CheckResult['examples'] = [];
  let count = 0;
  let ageBuckets: AgeBucket[] | undefined;
  let receivableAgeBuckets: ReceivableAgeBucket[] | undefined;
  await check.run({
    db,
    options,
    totals,
    found(discrepancy) {
      count += 1;
      if (examples.length < options.maxExamplesPerCheck) examples.push(discrepancy);
    },
    foundUnlisted(unlisted) {
      count += unlisted;
    },
    progress(done, total) {
      options.onProgress?.({ check: check.name, done, ...(total === undefined ? {} : { total }) });
    },
    setAgeBuckets(buckets) {
      ageBuckets = buckets;
    },
    setReceivableAgeBuckets(buckets) {
      receivableAgeBuckets = buckets;
    },
  });
  return {
    name: check.name,
    invariant: check.invariant,
    description: check.description,
    status: count === 0 ? 'ok' : 'discrepancy',
    count,
    examples,
    action: check.action,
    ...(ageBuckets ? { ageBuckets } : {}),
    ...(receivableAgeBuckets ? { receivableAgeBuckets } : {}),
  };
}

async function assertMigrated(db: Knex): Promise<void> {
  const { rows } = await db.raw<{ rows: { name: string }[] }>(
    `SELECT name FROM unnest(?::text[]) AS t(name) WHERE to_regclass(name) IS NULL`,
    [requiredTables],
  );
  if (rows.length > 0) {
    throw new ReconcileError(
      'DATABASE_NOT_MIGRATED',
      `the database has no ${rows.map((row) => row.name).join(', ')} table(s): it is not migrated. ` +
        'Run `npm run migrate` against it (or point DATABASE_URL at the worker database).',
    );
  }
}

async function countTotals(db: Knex): Promise<ReconciliationTotals> {
  const { rows } = await db.raw<{ rows: Record<keyof ReconciliationTotals, string>[] }>(
    `SELECT
       (SELECT count(*) FROM orders) AS orders,
       (SELECT count(*) FROM milestones) AS milestones,
       (SELECT count(*) FROM payments) AS payments,
       (SELECT count(*) FROM accounts) AS accounts,
       (SELECT count(*) FROM ledger_transactions) AS transactions,
       (SELECT count(*) FROM ledger_entries) AS entries,
       (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS "outboxUnpublished",
       (SELECT count(*) FROM kept_events WHERE replayed_at IS NULL) AS "keptEventsWaiting",
       (SELECT count(*) FROM disbursements) AS disbursements,
       (SELECT count(*) FROM chargebacks) AS chargebacks,
       (SELECT count(*) FROM inbox) AS events`,
  );
  const row = rows[0]!;
  return {
    orders: Number(row.orders),
    milestones: Number(row.milestones),
    payments: Number(row.payments),
    accounts: Number(row.accounts),
    transactions: Number(row.transactions),
    entries: Number(row.entries),
    outboxUnpublished: Number(row.outboxUnpublished),
    keptEventsWaiting: Number(row.keptEventsWaiting),
    disbursements: Number(row.disbursements),
    chargebacks: Number(row.chargebacks),
    events: Number(row.events),
  };
}
