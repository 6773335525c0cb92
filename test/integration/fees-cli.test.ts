/**
 * Fee policy versions against the real database: adding and listing, the
 * worker reading what was added, retroactive and overlapping versions
 * refused with the rule named, concurrent adds serialized by the table lock,
 * and the real CLI as a child process.
 */
import Decimal from 'decimal.js';
import type { FeePolicyError } from '../../src/domain/fees';
import type { NewFeePolicy } from '../../src/fees/policy-input';
import { addFeePolicy, listFeePolicies } from '../../src/fees/policy-store';
import { policyInForceAt } from '../../src/pipeline/fee-context';
import { type CommandResult, runCli } from '../support/cli';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const ctx = useTestContext();
const day = 24 * 3600 * 1000;
// Every test adds later than the one before: versions only ever append to the future.
const inDays = (days: number) => new Date(Date.now() + days * day);

const candidate = (effectiveFrom: Date, rate = '0.08'): NewFeePolicy => ({
  policyId: null,
  effectiveFrom,
  rate,
  minimumFees: { USD: '1.00' },
  volumeTiers: [
    { minVolume: '10000.00', rate: '0.07' },
    { minVolume: '50000.00', rate: '0.06' },
  ],
  volumeWindowDays: 30,
  disputeFees: { USD: '15.00' },
  note: 'test version',
});

const refusal = (code: FeePolicyError['code']) => expect.objectContaining({ code }) as Error;

test('an added version is stored as given, listed, and is what the worker finds once it starts', async () => {
  const start = inDays(10);
  const result = await addFeePolicy(ctx.db, candidate(start));
  expect(result.stored).toBe(true);
  const listed = await listFeePolicies(ctx.db);
  expect(listed).toEqual([result.policy]);
  expect(listed[0]).toMatchObject({
    effectiveFrom: start,
    note: 'test version',
    volumeWindowDays: 30,
  });

  const inForce = await policyInForceAt(ctx.db, new Date(start.getTime() + 1000), '0.10');
  expect(inForce).toMatchObject({
    policyId: result.policy.policyId,
    minimumFees: { USD: '1.00' },
    volumeTiers: candidate(start).volumeTiers,
    disputeFees: { USD: '15.00' },
  });
  expect(new Decimal(inForce.rate).equals('0.08')).toBe(true); // NUMERIC(9,8) reads "0.08000000"
  expect((await policyInForceAt(ctx.db, new Date(), '0.10')).policyId).toBeNull();
});

test('retroactive, same-instant and earlier-than-latest versions are refused and nothing is stored', async () => {
  const before = await listFeePolicies(ctx.db);
  const latest = before.at(-1)!.effectiveFrom;
  await expect(addFeePolicy(ctx.db, candidate(new Date(Date.now() - 60_000)))).rejects.toThrow(
    refusal('FEE_POLICY_RETROACTIVE'),
  );
  await expect(addFeePolicy(ctx.db, candidate(latest))).rejects.toThrow(
    /already starts at that instant \(FEE_POLICY_OVERLAP\)/,
  );
  await expect(addFeePolicy(ctx.db, candidate(new Date(latest.getTime() - day)))).rejects.toThrow(
    /starts later \(FEE_POLICY_OVERLAP\): .*set effectiveFrom later than/,
  );
  await expect(addFeePolicy(ctx.db, candidate(inDays(20), '1.5'))).rejects.toThrow(
    refusal('FEE_POLICY_INVALID'),
  );
  const dryRun = await addFeePolicy(ctx.db, candidate(inDays(20)), { dryRun: true });
  expect(dryRun.stored).toBe(false);
  expect(await listFeePolicies(ctx.db)).toEqual(before);
});

test('an add waits for a concurrent writer holding the lock, then sees its later version and refuses', async () => {
  const holder = await ctx.db.transaction();
  try {
    await holder.raw('LOCK TABLE fee_policies IN SHARE ROW EXCLUSIVE MODE');
    const waiting = addFeePolicy(ctx.db, candidate(inDays(30)));
    const settled = waiting.then(
      () => 'stored',
      (error: { code?: string }) => error.code,
    );
    await waitUntil(
      async () => {
        const { rows } = await ctx.db.raw<{ rows: unknown[] }>(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        return rows.length > 0;
      },
      10_000,
      'the add waiting for the table lock',
    );
    await holder('fee_policies').insert({ effective_from: inDays(31), rate: '0.05' });
    await holder.commit();
    expect(await settled).toBe('FEE_POLICY_OVERLAP');
  } finally {
    if (!holder.isCompleted()) await holder.rollback();
  }
});

test('racing adds: at one instant exactly one is stored; at different instants the stored ones keep their order', async () => {
  const instant = inDays(40);
  const same = await Promise.allSettled(
    Array.from({ length: 5 }, (_, i) => addFeePolicy(ctx.db, candidate(instant, `0.0${i + 1}`))),
  );
  expect(same.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of same.filter((r) => r.status === 'rejected')) {
    expect(r.reason).toMatchObject({ code: 'FEE_POLICY_OVERLAP' });
  }
  const atInstant = (await listFeePolicies(ctx.db)).filter(
    (p) => p.effectiveFrom.getTime() === instant.getTime(),
  );
  expect(atInstant).toHaveLength(1);

  const instants = [41, 42, 43, 44, 45].map(inDays);
  const spread = await Promise.allSettled(
    instants.map((at) => addFeePolicy(ctx.db, candidate(at))),
  );
  for (const r of spread.filter((r) => r.status === 'rejected')) {
    expect(r.reason).toMatchObject({ code: 'FEE_POLICY_OVERLAP' });
  }
  // The latest instant can never be refused; whatever was stored was stored in effective order.
  expect(spread.at(-1)!.status).toBe('fulfilled');
  const all = await listFeePolicies(ctx.db);
  const byId = [...all].sort((a, b) => a.policyId - b.policyId);
  expect(byId.map((p) => p.effectiveFrom.getTime())).toEqual(
    all.map((p) => p.effectiveFrom.getTime()),
  );
});

function cli(args: string[]): Promise<CommandResult> {
  const env = {
    ...process.env,
    DATABASE_URL: ctx.config.DATABASE_URL,
    PLATFORM_FEE_RATE: '0.10',
    LOG_LEVEL: 'warn',
  };
  return runCli(args, env);
}

test('the real CLI: fees add stores and prints, fees list --json shows it scheduled, refusals exit 1', async () => {
  const start = inDays(60).toISOString();
  const added = await cli([
    'fees',
    'add',
    '--effective-from',
    start,
    '--rate',
    '0.075',
    '--minimum',
    'USD=1.00',
    '--tier',
    '10000.00=0.07',
    '--dispute-fee',
    'USD=15.00',
    '--note',
    'from the CLI',
  ]);
  expect(added).toMatchObject({ code: 0, stderr: '' });
  expect(added.stdout).toMatch(new RegExp(`stored fee policy \\d+ \\(effective from ${start}\\)`));
  expect(added.stdout).toContain('7.5% (0.075)');

  const [listed, retroactive, invalid, usage] = await Promise.all([
    cli(['fees', 'list', '--json']),
    cli(['fees', 'add', '--effective-from', '2020-01-01T00:00:00Z', '--rate', '0.05']),
    cli([
      'fees',
      'add',
      '--effective-from',
      inDays(90).toISOString(),
      '--rate',
      '0.05',
      '--minimum',
      'USD=1.001',
    ]),
    cli(['fees', 'add', '--rate', '0.05']),
  ]);
  expect(listed.code).toBe(0);
  const report = JSON.parse(listed.stdout) as {
    inForcePolicyId: number | null;
    versions: Record<string, unknown>[];
  };
  expect(report.inForcePolicyId).toBeNull();
  expect(report.versions.at(-1)).toMatchObject({
    effectiveFrom: start,
    status: 'scheduled',
    rate: '0.075',
    minimumFees: { USD: '1.00' },
    volumeTiers: [{ minVolume: '10000.00', rate: '0.07' }],
    disputeFees: { USD: '15.00' },
    note: 'from the CLI',
  });
  expect(retroactive.code).toBe(1);
  expect(retroactive.stderr).toContain('(FEE_POLICY_RETROACTIVE): fees already computed');
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/\(FEE_POLICY_INVALID\): minimumFees\.USD: /);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('fees add needs --effective-from');
}, 60_000);
