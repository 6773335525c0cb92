/**
 * The pipeline's statements read and write by key, whatever the size of the
 * tables when they were planned (src/db/keyed-plans.ts). On a new database
 * (every table empty, never analyzed) Postgres would plan sequential scans
 * and hash joins and keep those plans while the tables grow; the pipeline's
 * transactions set the planner so that they do not. Checked with Postgres's
 * own counters: the realistic stream, applied in batches on one connection
 * (so the named statements are planned there and their generic plans
 * reused), makes no sequential scan of any table the pipeline touches.
 */
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { applyBatch } from '../../src/pipeline/apply-batch';
import type { PipelineSettings } from '../../src/pipeline/events';
import { replacementOf } from '../../src/store/disbursement-retries';
import { lockAndLoadOrders } from '../../src/store/order-writes';
import { benchStream } from '../support/bench-stream';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

const settings: PipelineSettings = {
  topicPrefix: 'keyed.',
  defaultFeeRate: '0.10',
  now: () => new Date('2026-06-01T09:00:00Z'),
};

const tables = [
  'orders',
  'milestones',
  'inbox',
  'payments',
  'kept_events',
  'accounts',
  'ledger_transactions',
  'ledger_entries',
  'ledger_chain_heads',
  'releases',
  'outbox',
  'disbursements',
  'chargebacks',
];

/** Sequential scans per table so far, as the statistics collector has them. */
async function sequentialScans(db: Knex): Promise<Map<string, number>> {
  // This connection's own counts are pending until flushed at the end of a transaction.
  await db.raw('SELECT pg_stat_force_next_flush()');
  await db.raw('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.raw<{ rows: { relname: string; seq_scan: string }[] }>(
    'SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY(?::text[])',
    [tables],
  );
  return new Map(rows.map((row) => [row.relname, Number(row.seq_scan)]));
}

test('the realistic stream, applied on new tables, scans none of them sequentially', async () => {
  // One connection: every named statement is prepared, planned and re-used on it.
  const db = createKnex(ctx.config, { poolMax: 1 });
  try {
    const events = benchStream('keyed', 900, 20);
    const before = await sequentialScans(db);
    expect([...before.keys()].sort()).toEqual([...tables].sort());
    // Batches of 30: past the five custom plans, each statement runs on its generic plan.
    let applied = 0;
    for (let start = 0; start < events.length; start += 30) {
      const results = await applyBatch(db, settings, events.slice(start, start + 30));
      applied += results.filter((result) => result.verdict === 'APPLIED').length;
    }
    expect(applied).toBeGreaterThan(350);
    const after = await sequentialScans(db);
    const scanned = tables.filter((table) => after.get(table)! > before.get(table)!);
    expect(scanned).toEqual([]);
  } finally {
    await db.destroy();
  }
});

test('the settings hold for the rest of the transaction and end with it, commit or rollback', async () => {
  const db = createKnex(ctx.config, { poolMax: 1 });
  const settingsNow = async (runner: Knex | Knex.Transaction) =>
    (
      await runner.raw<{ rows: Record<string, string>[] }>(
        `SELECT current_setting('enable_seqscan') AS seqscan, current_setting('enable_hashjoin') AS hashjoin,
                current_setting('enable_mergejoin') AS mergejoin, current_setting('jit') AS jit`,
      )
    ).rows[0];
  try {
    const outside = await settingsNow(db);
    expect(outside).toMatchObject({ seqscan: 'on', hashjoin: 'on', mergejoin: 'on' });
    await db.transaction(async (trx) => {
      await lockAndLoadOrders(trx, ['keyed-order']);
      expect(await settingsNow(trx)).toEqual({
        seqscan: 'off',
        hashjoin: 'off',
        mergejoin: 'off',
        jit: 'off',
      });
    });
    expect(await settingsNow(db)).toEqual(outside);
    await expect(
      db.transaction(async (trx) => {
        await lockAndLoadOrders(trx, ['keyed-order']);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    expect(await settingsNow(db)).toEqual(outside);
  } finally {
    await db.destroy();
  }
});

test("a retry's look-up of an earlier retry of the same request reads by index, not the whole table", async () => {
  const db = createKnex(ctx.config, { poolMax: 1 });
  try {
    const before = await sequentialScans(db);
    await db.transaction(async (trx) => {
      // As the retry command does: the order's locks (and the pipeline's planner settings) first.
      await lockAndLoadOrders(trx, ['keyed-order']);
      expect(await replacementOf(trx, '00000000-0000-4000-8000-000000000001')).toBeNull();
    });
    const after = await sequentialScans(db);
    expect(after.get('disbursements')).toBe(before.get('disbursements'));
  } finally {
    await db.destroy();
  }
});
