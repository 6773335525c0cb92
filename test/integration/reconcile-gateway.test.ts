/**
 * `reconcile-gateway` against a story built through the one path: the
 * gateway's report of it matches (exit 0, nets equal); each kind of
 * difference injected into the file or the ledger is reported exactly once,
 * under its kind, and nothing else is; an item just outside the window is
 * matched by the edge tolerance, not reported missing; a bad file names
 * its line and column (exit 2); the command runs as a real process with
 * its exit codes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { plainFormat, stripeFormat } from '../../src/gateway-reconciliation/formats';
import { reconcileGateway } from '../../src/gateway-reconciliation/run';
import type { ReportFormat } from '../../src/gateway-reconciliation/report-line';
import type { GatewayDifference } from '../../src/gateway-reconciliation/summarize';
import { runCli } from '../support/cli';
import { payment, useContractPipeline } from '../support/contract-pipeline';
import { useTestContext } from '../support/test-context';
import { buildGatewayStory, gateway, plainReport, type ReportRow } from './gateway-story';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));
const folder = mkdtempSync(path.join(tmpdir(), 'gateway-report-'));
let rows: ReportRow[];
let at: Date;
let window: { from: Date; to: Date };

beforeAll(async () => {
  const started = new Date();
  rows = await buildGatewayStory(ctx, pipeline);
  at = new Date();
  window = { from: new Date(started.getTime() - 60_000), to: new Date(at.getTime() + 60_000) };
});

let fileNumber = 0;
function reportFile(text: string): string {
  const file = path.join(folder, `report-${++fileNumber}.csv`);
  writeFileSync(file, text);
  return file;
}

async function reconcile(
  text: string,
  options: { from?: Date; to?: Date; toleranceMs?: number; format?: ReportFormat } = {},
) {
  return reconcileGateway(
    ctx.db,
    {
      gateway,
      file: reportFile(text),
      format: options.format ?? plainFormat,
      from: options.from ?? window.from,
      to: options.to ?? window.to,
      toleranceMs: options.toleranceMs ?? 0,
    },
    async (summary, differences) => {
      const listed: GatewayDifference[] = [];
      for await (const difference of differences()) listed.push(difference);
      return { summary, listed };
    },
  );
}

const kinds = (listed: readonly GatewayDifference[]) =>
  listed.map((difference) => [difference.kind, difference.type, difference.gatewayReference]);

test('the gateway’s report of the story matches the ledger: every item, every total, the nets', async () => {
  const { summary, listed } = await reconcile(plainReport(rows, at));
  expect(listed).toEqual([]);
  expect(summary.counts).toEqual({
    matched: 11,
    only_in_file: 0,
    only_in_ledger: 0,
    amount_differs: 0,
    twice_in_file: 0,
  });
  const total = (type: string) => summary.totals.find((t) => t.type === type);
  expect(total('charge')).toMatchObject({
    fileItems: 6,
    fileMinor: '322500',
    ledgerItems: 6,
    ledgerMinor: '322500',
  });
  expect(total('payout')).toMatchObject({ fileMinor: '90000', ledgerMinor: '90000' });
  expect(total('chargeback')).toMatchObject({ fileItems: 2, ledgerItems: 2, fileMinor: '110000' });
  // In: 3,225.00 charged + 300.00 won back; out: 900.00 + 200.00 + 1,100.00.
  expect(summary.nets).toEqual([
    {
      currency: 'USD',
      fileNetMinor: '132500',
      ledgerNetMinor: '132500',
      differenceMinor: '0',
      explainedByDifferencesMinor: '0',
      explainedByEdgesMinor: '0',
    },
  ]);
});

test.each([
  [
    'a charge the ledger never saw',
    (r: ReportRow[]) => [
      ...r,
      { reference: 'ch-ghost', type: 'charge', amount: '70.00', currency: 'USD' },
    ],
    ['only_in_file', 'charge', 'ch-ghost'],
    '7000',
  ],
  [
    'a payout missing from the file',
    (r: ReportRow[]) => r.filter((row) => row.reference !== 'po-g1'),
    ['only_in_ledger', 'payout', 'po-g1'],
    '90000',
  ],
  [
    'a refund of another amount',
    (r: ReportRow[]) =>
      r.map((row) => (row.reference === 're-g2' ? { ...row, amount: '199.99' } : row)),
    ['amount_differs', 'refund', 're-g2'],
    '1',
  ],
  [
    'a chargeback in another currency',
    (r: ReportRow[]) =>
      r.map((row) =>
        row.reference === 'ch-g4' && row.type === 'chargeback' ? { ...row, currency: 'EUR' } : row,
      ),
    ['amount_differs', 'chargeback', 'ch-g4'],
    null,
  ],
  [
    'a charge listed twice',
    (r: ReportRow[]) => [...r, r.find((row) => row.reference === 'ch-g2')!],
    ['twice_in_file', 'charge', 'ch-g2'],
    '50000',
  ],
])(
  '%s is reported once, under its kind, and nothing else is',
  async (_case, change, expected, usdDelta) => {
    const { summary, listed } = await reconcile(plainReport(change(rows), at));
    expect(kinds(listed)).toEqual([expected]);
    expect(summary.differences).toBe(1);
    // The nets differ by exactly what the difference explains; nothing is left to the edges.
    const usd = summary.nets.find((net) => net.currency === 'USD')!;
    expect(usd.explainedByEdgesMinor).toBe('0');
    if (usdDelta !== null) expect(BigInt(usd.differenceMinor) ** 2n).toBe(BigInt(usdDelta) ** 2n);
  },
);

test('an item of the window whose counterpart lies just outside it is matched by the tolerance, not missing', async () => {
  const early = rows.map((row) => (row.reference === 'ch-g1' ? { ...row } : row));
  // The file dates ch-g1 an hour before the window; the ledger has it inside.
  const lines = plainReport(early, at).split('\n');
  const index = lines.findIndex((line) => line.startsWith('ch-g1,charge'));
  lines[index] = lines[index]!.replace(
    at.toISOString(),
    new Date(window.from.getTime() - 3600_000).toISOString(),
  );
  const tight = await reconcile(lines.join('\n'), { toleranceMs: 0 });
  expect(kinds(tight.listed)).toEqual([['only_in_ledger', 'charge', 'ch-g1']]);
  const tolerant = await reconcile(lines.join('\n'), { toleranceMs: 2 * 3600_000 });
  expect(tolerant.listed).toEqual([]);
  // The nets then differ by the edge item alone, and say so.
  expect(tolerant.summary.nets[0]).toMatchObject({
    differenceMinor: '-100000',
    explainedByDifferencesMinor: '0',
    explainedByEdgesMinor: '-100000',
  });
});

test('a file line with a digit too many names its line and column; the CLI exits 2, 1 and 0', async () => {
  const env = { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL };
  const range = [
    '--from',
    window.from.toISOString(),
    '--to',
    window.to.toISOString(),
    '--edge-tolerance',
    '1s',
  ];
  const bad = plainReport(rows, at).replace('re-g2,refund,200.00', 're-g2,refund,200.001');
  const refused = await runCli(
    ['reconcile-gateway', '--gateway', gateway, '--file', reportFile(bad), ...range],
    env,
  );
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('line 6, column amount:');
  expect(refused.stderr).toContain('200.001');

  const clean = await runCli(
    [
      'reconcile-gateway',
      '--gateway',
      gateway,
      '--file',
      reportFile(plainReport(rows, at)),
      ...range,
    ],
    env,
  );
  expect([clean.code, clean.stderr]).toEqual([0, '']);
  expect(clean.stdout).toContain('matched 11, only in the file 0');
  expect(clean.stdout).toContain('everything matches');

  const missing = plainReport(
    rows.filter((row) => row.reference !== 'po-g1'),
    at,
  );
  const json = await runCli(
    ['reconcile-gateway', '--gateway', gateway, '--file', reportFile(missing), ...range, '--json'],
    env,
  );
  expect(json.code).toBe(1);
  const parsed = JSON.parse(json.stdout) as { clean: boolean; differenceList: GatewayDifference[] };
  expect(parsed.clean).toBe(false);
  expect(parsed.differenceList).toEqual([
    expect.objectContaining({
      kind: 'only_in_ledger',
      type: 'payout',
      gatewayReference: 'po-g1',
      ledger: expect.objectContaining({ amountMinor: '90000', orderId: 'o-g1' }) as unknown,
    }),
  ]);
}, 120_000);

test('the same story as Stripe reports it (its balance-change columns, signed gross, lower-case currency) matches', async () => {
  const category = {
    charge: 'charge',
    refund: 'refund',
    payout: 'payout',
    chargeback: 'dispute',
    chargeback_reversal: 'dispute_reversal',
  } as const;
  const outgoing = new Set(['refund', 'payout', 'chargeback']);
  const created = at.toISOString().slice(0, 19).replace('T', ' ');
  const lines = rows.map((row) => {
    const reportingCategory = category[row.type as keyof typeof category];
    const byCharge = row.type === 'charge' || row.type.startsWith('chargeback');
    const gross = `${outgoing.has(row.type) ? '-' : ''}${row.amount}`;
    return [
      `txn_${row.reference}_${row.type}`,
      created,
      'usd',
      gross,
      reportingCategory,
      byCharge ? `dp_${row.reference}` : row.reference,
      byCharge ? row.reference : '',
    ].join(',');
  });
  const text = [
    'balance_transaction_id,created_utc,currency,gross,reporting_category,source_id,charge_id',
    ...lines,
  ].join('\n');
  const { summary, listed } = await reconcile(text, { format: stripeFormat, toleranceMs: 5_000 });
  expect(listed).toEqual([]);
  expect(summary.counts.matched).toBe(11);
  expect(summary.format).toBe('stripe');
});

// Last: it adds payments to the ledger that the other tests’ reports do not have.
test('a payment in the ledger the gateway does not report is only in the ledger; one kept for its order is noted', async () => {
  await pipeline.deliver(payment('o-g5', 'm-1', '10.00', 'ch-g5-extra'));
  await pipeline.deliver(payment('o-unknown', 'm-1', '40.00', 'ch-waiting'));
  const extra = [
    ...rows,
    { reference: 'ch-waiting', type: 'charge', amount: '40.00', currency: 'USD' },
  ];
  const { listed } = await reconcile(plainReport(extra, at), { to: new Date(Date.now() + 60_000) });
  expect(kinds(listed)).toEqual([
    ['only_in_file', 'charge', 'ch-waiting'],
    ['only_in_ledger', 'charge', 'ch-g5-extra'],
  ]);
  expect(listed[0]!.note).toBe(
    'the payment was received and is kept, waiting for order o-unknown: not in the ledger yet',
  );
});

test('differences past one cursor page all come, once each, in (kind, type, reference) order; a reader may stop early and another read them again', async () => {
  // 4,500 charges the ledger never saw (the cursor hands out 2,000 at a time),
  // one of them twice, besides the story's own items, which match.
  const extra: ReportRow[] = Array.from({ length: 4500 }, (_, index) => ({
    reference: `ch-page-${String(4499 - index).padStart(4, '0')}`,
    type: 'charge',
    amount: '1.00',
    currency: 'USD',
  }));
  extra.push({ ...extra[17]! });
  const file = reportFile(plainReport([...rows, ...extra], at));
  const read = await reconcileGateway(
    ctx.db,
    { gateway, file, format: plainFormat, from: window.from, to: window.to, toleranceMs: 0 },
    async (summary, differences, trx) => {
      const openCursors = async () =>
        (await trx.raw<{ rows: { n: number }[] }>('SELECT count(*)::int AS n FROM pg_cursors'))
          .rows[0]!.n;
      const firstThree: GatewayDifference[] = [];
      for await (const difference of differences()) {
        firstThree.push(difference);
        if (firstThree.length === 3) {
          expect(await openCursors()).toBe(1);
          break;
        }
      }
      // The reader that stopped early closed its cursor.
      expect(await openCursors()).toBe(0);
      const listed: GatewayDifference[] = [];
      for await (const difference of differences()) listed.push(difference);
      return { summary, firstThree, listed };
    },
  );
  expect(read.summary.counts).toMatchObject({
    matched: rows.length,
    only_in_file: 4500,
    twice_in_file: 1,
  });
  const onlyInFile = extra
    .slice(0, 4500)
    .map((row) => ['only_in_file', 'charge', row.reference])
    .sort((a, b) => (a[2]! < b[2]! ? -1 : 1));
  // In (kind, type, reference) order, byte by byte; the file's side is all there, once each
  // (earlier tests of this file leave payments only in the ledger, listed between the two).
  const listed = kinds(read.listed);
  const inOrder = [...listed].sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
  expect(listed).toEqual(inOrder);
  expect(listed.filter(([kind]) => kind !== 'only_in_ledger')).toEqual([
    ...onlyInFile,
    ['twice_in_file', 'charge', extra[17]!.reference],
  ]);
  expect(kinds(read.firstThree)).toEqual(onlyInFile.slice(0, 3));
});
