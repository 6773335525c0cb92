/**
 * `npm run bench` as a user runs it, tiny: a child process against the real
 * services that makes its own database and topic prefix, measures (the
 * payouts and refunds answered with settlements as they are published),
 * ends with one JSON line holding every figure, reconciles clean, and
 * removes what it created. The figures themselves are not asserted: timing belongs
 * in the benchmark, not in tests.
 */
import { Client } from 'pg';
import { defaults } from '../../src/config';
import { runScript } from '../support/cli';

const requiredKeys = [
  'eventsPerSecond',
  'p50Ms',
  'p99Ms',
  'maxMs',
  'rssMb',
  'kafkaFloorEventsPerSecond',
  'dbFloorEventsPerSecond',
  'events',
  'orders',
  'offeredRate',
  'duplicates',
  'durationMs',
  'reconciliationClean',
  'chargebacks',
  'settlements',
  'settlementP99Ms',
  'dbFloorEvents',
  'dbFloorSettlements',
  'instances',
  'rssMbByInstance',
  'lanes',
  'workerDbActivity',
  'workerLockWaits',
];

async function runBench(args: string[]) {
  const result = await runScript('src/bench/main.ts', args, { ...process.env }, 80_000);
  if (result.code !== 0) throw new Error(`bench exited ${result.code}:\n${result.stderr}`);
  const lines = result.stdout.trimEnd().split('\n');
  return { ...result, lines, json: JSON.parse(lines.at(-1)!) as Record<string, unknown> };
}

async function databaseExists(name: string): Promise<boolean> {
  // The bench creates its databases on the default server (as the demo does).
  const url = new URL(defaults.DATABASE_URL);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

test('a tiny run prints every figure as its last line, reconciles clean and removes its databases', async () => {
  const { json, lines, stderr } = await runBench(['--events', '300', '--seed', 'integration']);
  for (const key of requiredKeys) expect(json).toHaveProperty(key);
  for (const key of requiredKeys.slice(0, 7)) expect(json[key]).toBeGreaterThan(0);
  expect(json).toMatchObject({
    offeredRate: null,
    reconciliationClean: true,
    eventsWithoutOutcome: 0,
    deadLettered: 0,
    instances: 1,
    lanes: { disjoint: true, members: 1, violations: [] },
  });
  // 300 planned, settlements included; a request the worker never made (an event overtaken
  // and refused) is not answered, so a few fewer may be sent.
  const settlements = json.settlements as {
    planned: number;
    sent: number;
    paid: number;
    failed: number;
    notRequested: number;
    unplanned: number;
  };
  expect(settlements.planned).toBeGreaterThan(30);
  expect(settlements.sent).toBeGreaterThan(0);
  expect(settlements.sent).toBe(settlements.paid + settlements.failed);
  expect(settlements.sent + settlements.notRequested - settlements.unplanned).toBe(
    settlements.planned,
  );
  expect(json.events).toBe(300 - settlements.planned + settlements.sent);
  expect(json.duplicatesAbsorbed).toBe(json.duplicates);
  expect(json.dbFloorSettlements).toBeGreaterThan(0);
  // The readable summary comes first.
  expect(lines.join('\n')).toMatch(/sustained throughput .* events\/s/);
  const dropped = [...stderr.matchAll(/dropped database (escrow_bench_\w+)/g)].map((m) => m[1]!);
  expect(dropped).toHaveLength(2);
  for (const name of dropped) expect(await databaseExists(name)).toBe(false);
}, 90_000);

test('--rate paces production; --json-only prints the JSON line alone', async () => {
  const { json, lines } = await runBench(['--events', '150', '--rate', '300', '--json-only']);
  expect(lines).toHaveLength(1);
  // How long producing took is a figure of the benchmark, not a test's to assert.
  expect(json).toMatchObject({
    offeredRate: 300,
    reconciliationClean: true,
    eventsWithoutOutcome: 0,
  });
}, 90_000);

test('--instances 2: two workers in one group, measured together, holding whole lanes', async () => {
  const { json } = await runBench(['--events', '300', '--instances', '2', '--json-only']);
  expect(json).toMatchObject({
    instances: 2,
    reconciliationClean: true,
    eventsWithoutOutcome: 0,
    lanes: { disjoint: true, members: 2, assigner: 'EscrowLanes', violations: [] },
  });
  const each = json.rssMbByInstance as number[];
  expect(each).toHaveLength(2);
  expect(json.rssMb).toBe(Math.max(...each));
  // Every lane on exactly one of the two members.
  const final = (json.lanes as { final: Record<string, number[]> }).final;
  expect(Object.keys(final)).toHaveLength(2);
  const lanes = Object.values(final).flat();
  expect(new Set(lanes).size).toBe(lanes.length);
}, 90_000);
