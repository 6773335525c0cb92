/**
 * `escrow-worker liquidity` and `reconcile --as-of` as real processes: the same figures read back
 * at three moments of a story (funded, released, paid out) with --as-of,
 * and now; the table for people; a date without a time refused (exit 2).
 */
import type { EscrowCommand } from '../../src/domain/escrow';
import { runCli } from '../support/cli';
import {
  milestone,
  openOrder,
  payment,
  reached,
  useContractPipeline,
} from '../support/contract-pipeline';
import { outboxMark, outboxOf } from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date());
/** Each step on the real clock: payout requests and settlements are stamped with the pipeline's. */
const deliver = (command: EscrowCommand) => {
  pipeline.now = new Date();
  return pipeline.deliver(command);
};
const moments: string[] = [];

/** The database's clock, which stamps ledger transactions: a moment between two steps. */
async function mark(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { rows } = await ctx.db.raw<{ rows: { now: string }[] }>(
    `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`,
  );
  moments.push(rows[0]!.now);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

beforeAll(async () => {
  await deliver(openOrder('o-liq', [milestone('m-1', '1000.00')], { providerId: 'p-liq' }));
  await deliver(payment('o-liq', 'm-1', '1000.00', 'ch-liq'));
  await mark();
  const before = await outboxMark(ctx.db, 'o-liq');
  await deliver(reached('o-liq', 'm-1'));
  const payout = (await outboxOf(ctx.db, 'o-liq', before)).find(
    (row) => row.type === 'PAYOUT_REQUESTED',
  )!;
  await mark();
  const paid: EscrowCommand = {
    type: 'PAYOUT_PAID',
    eventId: 'paid-o-liq',
    orderId: 'o-liq',
    milestoneId: 'm-1',
    outcomeId: payout.payload.outcomeId as string,
    gateway: 'stripe',
    gatewayReference: 'po-liq',
    amount: '900.00',
    currency: 'USD',
    reason: null,
  };
  await deliver(paid);
  await mark();
});

const figures = async (args: string[]) => {
  const result = await runCli(['liquidity', '--json', ...args], {
    ...process.env,
    DATABASE_URL: ctx.config.DATABASE_URL,
  });
  expect([result.code, result.stderr]).toEqual([0, '']);
  return JSON.parse(result.stdout) as { asOf?: string; currencies: Record<string, unknown>[] };
};

test('the figures at three moments of a story, and now', async () => {
  const usd = (fields: Record<string, unknown>) => ({
    currency: 'USD',
    escrowHold: '0.00',
    disputed: '0.00',
    providerPayable: '0.00',
    refundPayable: '0.00',
    inPayout: { count: 0, amount: '0.00' },
    receivable: '0.00',
    revenue: '0.00',
    ...fields,
  });
  const [funded, released, paidOut] = moments;
  expect((await figures(['--as-of', funded!])).currencies).toEqual([
    usd({ escrowHold: '1000.00', gatewayClearing: '1000.00' }),
  ]);
  expect((await figures(['--as-of', released!])).currencies).toEqual([
    usd({
      providerPayable: '900.00',
      revenue: '100.00',
      gatewayClearing: '1000.00',
      inPayout: { count: 1, amount: '900.00' },
    }),
  ]);
  const after = usd({ revenue: '100.00', gatewayClearing: '100.00' });
  expect((await figures(['--as-of', paidOut!])).currencies).toEqual([after]);
  expect(await figures([])).toEqual({ currencies: [after] });
}, 60_000);

test('the table for people, and a date without a time refused', async () => {
  const env = { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL };
  const table = await runCli(['liquidity'], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain('liquidity now');
  expect(table.stdout).toMatch(
    /USD\s+0\.00\s+0\.00\s+0\.00\s+0\.00 \(0\)\s+0\.00\s+0\.00\s+100\.00\s+100\.00/,
  );
  const refused = await runCli(['liquidity', '--as-of', '2026-06-01'], env);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('add a time and an offset');
}, 60_000);

test('reconcile --as-of checks the ledger as it stood then, and finds a change made before that moment', async () => {
  const env = { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL };
  const [funded] = moments;
  const result = await runCli(['reconcile', '--as-of', funded!, '--json'], env);
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as {
    clean: boolean;
    transactions: number;
    balances: { currency: string; kind: string; amount: string }[];
    checks: { name: string; findings: number }[];
  };
  expect(report).toMatchObject({ clean: true, transactions: 1 });
  expect(report.balances).toEqual([
    { currency: 'USD', kind: 'ESCROW_HOLD', amount: '1000.00 USD' },
    { currency: 'USD', kind: 'GATEWAY_CLEARING', amount: '-1000.00 USD' },
  ]);
  // An entry slipped into the funding transaction behind the database's back (as superuser,
  // triggers off): the ledger as of that moment no longer nets to zero, and the hold went up.
  const trx = await ctx.db.transaction();
  try {
    await trx.raw('SET LOCAL session_replication_role = replica');
    await trx.raw(
      `INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor)
       SELECT e.transaction_id, e.account_id, e.currency, 1 FROM ledger_entries e
       JOIN accounts a ON a.account_id = e.account_id AND a.kind = 'ESCROW_HOLD'
       ORDER BY e.entry_id LIMIT 1`,
    );
    await trx.commit();
  } catch (error) {
    await trx.rollback();
    throw error;
  }
  const broken = await runCli(['reconcile', '--as-of', funded!], env);
  expect(broken.code).toBe(1);
  expect(broken.stdout).toContain('FAIL  transactions_net_to_zero');
  expect(broken.stdout).toContain('FAIL  ledger_nets_to_zero');
  expect(broken.stdout).toContain('its USD entries sum to 0.01 USD');
  const usage = await runCli(['reconcile', '--as-of', 'yesterday'], env);
  expect(usage.code).toBe(2);
}, 60_000);
