/**
 * Recorded gateway reconciliations, through the real command and the real
 * operations API: a run with --record files each difference under an id
 * that the next run of the same file keeps; `explain ID --note` marks one
 * (once: a second explain is refused); later runs no longer list it, and
 * exit 0 once every difference is explained; a difference whose amount
 * changes is a new one; GET /reconciliation/gateway/runs lists the runs,
 * newest first, behind the token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli';
import { useContractPipeline } from '../support/contract-pipeline';
import { useOpsViewsServer } from '../support/ops-views-server';
import { useTestContext } from '../support/test-context';
import { buildGatewayStory, gateway, plainReport, type ReportRow } from './gateway-story';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));
const api = useOpsViewsServer(ctx);
const folder = mkdtempSync(path.join(tmpdir(), 'gateway-record-'));
let env: NodeJS.ProcessEnv;
let range: string[];
let rows: ReportRow[];
let at: Date;

beforeAll(async () => {
  const started = new Date(Date.now() - 60_000);
  rows = await buildGatewayStory(ctx, pipeline);
  at = new Date();
  env = { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL, USER: 'finance-anna' };
  range = [
    '--from',
    started.toISOString(),
    '--to',
    new Date(Date.now() + 60_000).toISOString(),
    '--edge-tolerance',
    '1s',
  ];
});

const reportFile = (name: string, reportRows: readonly ReportRow[]) => {
  const file = path.join(folder, name);
  writeFileSync(file, plainReport(reportRows, at));
  return file;
};

type Listed = { differenceId: string; isNew: boolean; kind: string; gatewayReference: string };

async function recordedRun(file: string) {
  const result = await runCli(
    ['reconcile-gateway', '--gateway', gateway, '--file', file, ...range, '--record', '--json'],
    env,
  );
  const parsed = JSON.parse(result.stdout) as {
    runId: string;
    differenceList: Listed[];
    unexplained: number;
  };
  return { code: result.code, ...parsed };
}

test('a difference keeps its id across runs, is explained once, and is then no longer listed', async () => {
  const changed = [
    ...rows.filter((row) => row.reference !== 'po-g1'),
    { reference: 'ch-ghost', type: 'charge', amount: '70.00', currency: 'USD' },
  ];
  const file = reportFile('changed.csv', changed);
  const first = await recordedRun(file);
  expect(first.code).toBe(1);
  expect(first.differenceList.map((d) => [d.kind, d.gatewayReference, d.isNew])).toEqual([
    ['only_in_file', 'ch-ghost', true],
    ['only_in_ledger', 'po-g1', true],
  ]);
  const [ghost, payout] = first.differenceList;

  const second = await recordedRun(file);
  expect(second.differenceList.map((d) => [d.differenceId, d.isNew])).toEqual([
    [ghost!.differenceId, false],
    [payout!.differenceId, false],
  ]);

  const explained = await runCli(
    [
      'reconcile-gateway',
      'explain',
      ghost!.differenceId,
      '--note',
      'test charge, voided at the gateway',
    ],
    env,
  );
  expect([explained.code, explained.stdout.trim()]).toEqual([
    0,
    `difference ${ghost!.differenceId} (only_in_file ch-ghost at stripe) explained; later runs no longer list it`,
  ]);
  const again = await runCli(
    ['reconcile-gateway', 'explain', ghost!.differenceId, '--note', 'again'],
    env,
  );
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('was explained already');
  expect(again.stderr).toContain('by finance-anna: "test charge, voided at the gateway"');
  const unknown = await runCli(['reconcile-gateway', 'explain', '999999', '--note', 'x'], env);
  expect([unknown.code, unknown.stderr.trim()]).toEqual([
    1,
    'escrow-worker reconcile-gateway explain: no recorded difference 999999',
  ]);
  const noNote = await runCli(['reconcile-gateway', 'explain', payout!.differenceId], env);
  expect(noNote.code).toBe(2);

  const third = await recordedRun(file);
  expect([third.code, third.differenceList.map((d) => d.gatewayReference)]).toEqual([1, ['po-g1']]);

  await runCli(
    [
      'reconcile-gateway',
      'explain',
      payout!.differenceId,
      '--note',
      'paid out by hand, booked next month',
    ],
    env,
  );
  const table = await runCli(
    ['reconcile-gateway', '--gateway', gateway, '--file', file, ...range, '--record'],
    env,
  );
  expect(table.code).toBe(0);
  expect(table.stdout).toContain('0 new difference(s), 2 explained earlier and not listed');
  expect(table.stdout).toContain('every one of the 2 difference(s) is explained');

  // The ghost at another amount is a difference of its own.
  const moved = reportFile(
    'moved.csv',
    changed.map((row) => (row.reference === 'ch-ghost' ? { ...row, amount: '71.00' } : row)),
  );
  const fifth = await recordedRun(moved);
  expect(fifth.differenceList.map((d) => [d.gatewayReference, d.isNew])).toEqual([
    ['ch-ghost', true],
  ]);
  expect(fifth.differenceList[0]!.differenceId).not.toBe(ghost!.differenceId);

  const runs = await api.get('/reconciliation/gateway/runs?gateway=stripe&limit=10');
  expect(runs.status).toBe(200);
  const listed = runs.body.runs as {
    runId: string;
    differences: number;
    newDifferences: number;
    explained: number;
    matched: number;
  }[];
  expect(listed.map((run) => run.runId)).toEqual([
    fifth.runId,
    ...[3, 2, 1].map(() => expect.any(String) as unknown),
    first.runId,
  ]);
  expect(listed[0]).toMatchObject({ differences: 2, newDifferences: 1, explained: 1, matched: 10 });
  expect(listed[4]).toMatchObject({ differences: 2, newDifferences: 2, explained: 0 });
  expect((await api.get('/reconciliation/gateway/runs', {})).status).toBe(401);
  expect((await api.get('/reconciliation/gateway/runs?limit=0')).status).toBe(400);
}, 180_000);
