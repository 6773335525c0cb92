/**
 * A one-million-line report reconciled by the real command in bounded
 * memory: the CLI runs with a V8 heap capped at 96 MB — a reading that held
 * the file's lines, or the differences, would run out of it — and counts
 * every line (a million charges the ledger never saw, and the story's own
 * eleven movements, matched). Its time and peak memory are printed for the
 * record, not asserted: figures belong to the benchmark and the notes.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { useContractPipeline } from '../support/contract-pipeline';
import { useTestContext } from '../support/test-context';
import { buildGatewayStory, gateway } from './gateway-story';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));
const lineCount = 1_000_000;

async function writeReport(
  file: string,
  storyRows: Awaited<ReturnType<typeof buildGatewayStory>>,
  at: string,
) {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('gateway_reference,type,amount,currency,occurred_at\n');
  for (const row of storyRows)
    await write(`${row.reference},${row.type},${row.amount},${row.currency},${at}\n`);
  for (let index = 0; index < lineCount; index += 1) {
    await write(
      `ch-bulk-${index},charge,${(index % 9999) + 1}.${String(index % 100).padStart(2, '0')},USD,${at}\n`,
    );
  }
  out.end();
  await once(out, 'finish');
}

test('a million lines are read, matched and counted with a 96 MB heap', async () => {
  const started = new Date(Date.now() - 60_000);
  const storyRows = await buildGatewayStory(ctx, pipeline);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'gateway-large-')), 'report.csv');
  await writeReport(file, storyRows, new Date().toISOString());
  const args = [
    '-f',
    'peak-rss-kb=%M elapsed-s=%e',
    process.execPath,
    '--max-old-space-size=96',
    '--import',
    'tsx',
    'src/cli/main.ts',
    'reconcile-gateway',
    '--gateway',
    gateway,
    '--file',
    file,
    '--from',
    started.toISOString(),
    '--to',
    new Date(Date.now() + 60_000).toISOString(),
    '--max-differences',
    '2',
  ];
  const child = spawn('/usr/bin/time', args, {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, DATABASE_URL: ctx.config.DATABASE_URL },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  console.log(
    `reconcile-gateway, ${lineCount + storyRows.length} lines: ${stderr.trim().split('\n').pop()}`,
  );
  expect(code).toBe(1);
  expect(stdout).toContain(
    `lines read ${lineCount + storyRows.length} (0 not reconciled movements, skipped)`,
  );
  expect(stdout).toContain(`matched 11, only in the file ${lineCount}, only in the ledger 0`);
  expect(stdout).toContain(`(${lineCount - 2} more not listed; --json lists all)`);
}, 600_000);
