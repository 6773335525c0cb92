/**
 * The real `escrow-worker reconcile` as a child process: exit 0 and a clean
 * report on a clean database, exit 1 with the failing check after a committed
 * corruption, JSON on stdout untouched by progress, exit 2 on a usage error,
 * and a message that says what to do when the database is unreachable or not
 * migrated.
 */
import { allChecks, type ReconciliationReport } from '../../src/reconcile';
import { createDatabase } from '../support/databases';
import { withDatabase } from '../support/endpoints';
import { runCli } from '../support/cli';
import { useTestContext } from '../support/test-context';
import { buildCleanState } from './reconciliation-scenario';

const ctx = useTestContext();
beforeAll(() => buildCleanState(ctx.db, ctx.config));

function reconcile(args: string[], databaseUrl = ctx.config.DATABASE_URL) {
  return runCli(['reconcile', ...args], {
    ...process.env,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
  });
}

const failing = (report: ReconciliationReport) =>
  report.checks.filter((check) => check.status !== 'ok').map((check) => check.name);

test('clean: exit 0, JSON on stdout, progress only on stderr and only when asked', async () => {
  const [quiet, withProgress, table] = await Promise.all([
    reconcile(['--json']),
    reconcile(['--json', '--progress']),
    reconcile([]),
  ]);
  expect(quiet).toMatchObject({ code: 0, stderr: '' });
  expect((JSON.parse(quiet.stdout) as ReconciliationReport).clean).toBe(true);

  expect(withProgress.code).toBe(0);
  expect(withProgress.stderr).toMatch(/^reconcile: transactions_net_to_zero: \d+ of \d+/m);
  expect(withProgress.stderr).toMatch(/^reconcile: stuck_funds: 17 of 17 \(100%\)$/m);
  expect(failing(JSON.parse(withProgress.stdout) as ReconciliationReport)).toEqual([]);

  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(
    new RegExp(`^Reconciliation as of .*: all ${allChecks.length} checks clean$`, 'm'),
  );
  expect(table.stdout).toMatch(/^ {2}ok {6}payments_in_ledger_once +0 {2}DESIGN\.md invariant 3/m);
  expect(table.stdout).toMatch(/^Result: CLEAN$/m);
});

test('a committed corruption: exit 1, and the failing check named in JSON and in the table', async () => {
  const payment = () => ctx.db('payments').where({ gateway_reference: 'ch-o-funded-1000.00' });
  await payment().update({ status: 'REFUNDED' });
  try {
    const [json, table] = await Promise.all([reconcile(['--json']), reconcile([])]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as ReconciliationReport;
    expect(report.clean).toBe(false);
    expect(failing(report)).toEqual(['payments_in_ledger_once']);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^ {2}DISCREPANCY {2}payments_in_ledger_once +1 {2}/m);
    expect(table.stdout).toContain(
      '  - payment stripe/ch-o-funded-1000.00 (order o-funded): status REFUNDED with 0.00 USD of 1000.00 USD refunded',
    );
    expect(table.stdout).toMatch(/^Result: DISCREPANCIES \(payments_in_ledger_once\)$/m);
  } finally {
    await payment().update({ status: 'APPLIED' });
  }
  expect((await reconcile(['--json'])).code).toBe(0);
});

test('usage errors exit 2; an unreachable or unmigrated database exits 1 saying what to do', async () => {
  const empty = `${ctx.databaseName}_empty`; // dropped with the file's database (same prefix)
  await createDatabase(process.env.DATABASE_URL!, empty);
  const unreachable = 'postgres://postgres@127.0.0.1:1/escrow';
  const [usage, badDuration, notMigrated, down] = await Promise.all([
    reconcile(['--bogus']),
    reconcile(['--stuck-after', 'a month']),
    reconcile([], withDatabase(ctx.config.DATABASE_URL, empty)),
    reconcile([], unreachable),
  ]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/Unknown option '--bogus'[\s\S]*usage: escrow-worker reconcile/);
  expect(badDuration.code).toBe(2);
  expect(badDuration.stderr).toContain('duration "a month" is not understood');
  expect(notMigrated).toMatchObject({ code: 1, stdout: '' });
  expect(notMigrated.stderr).toContain('it is not migrated. Run `npm run migrate`');
  expect(down).toMatchObject({ code: 1, stdout: '' });
  expect(down.stderr).toContain('cannot reach the database (connect ECONNREFUSED 127.0.0.1:1)');
});
