/** When the compiled worker may be run: it exists and is newer than every input of the build. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildState, compiledEntry, notCurrentReason } from '../../../src/bench/compiled-worker';

let base: string;

/** Writes a file (and its folders) dated `secondsAgo` before now. */
function file(relative: string, secondsAgo: number): void {
  const full = path.join(base, relative);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, '');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(full, at, at);
}

beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'compiled-worker-'));
  file('tsconfig.json', 100);
  file('tsconfig.build.json', 100);
  file('src/main.ts', 100);
  file('src/kafka/client.ts', 100);
  file('consumers/payments.ts', 100);
  file('migrations/0001_init.ts', 100);
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

test('missing until built', () => {
  expect(buildState(base)).toEqual({ state: 'missing' });
  expect(notCurrentReason(buildState(base))).toBe(`${compiledEntry} does not exist`);
});

test('current when built after every source and configuration', () => {
  file(compiledEntry, 10);
  expect(buildState(base)).toEqual({ state: 'current' });
  expect(notCurrentReason(buildState(base))).toBeNull();
});

test.each([
  'src/kafka/client.ts',
  'src/kafka/lane-assigner.ts',
  'consumers/payments.ts',
  'migrations/0002_more.ts',
  'tsconfig.build.json',
])('stale when %s changed after the build', (changed) => {
  file(compiledEntry, 10);
  file(changed, 1);
  expect(buildState(base)).toEqual({ state: 'stale', newerSource: changed });
  expect(notCurrentReason(buildState(base))).toBe(`${compiledEntry} is older than ${changed}`);
});

test('files the build does not compile leave it current', () => {
  file(compiledEntry, 10);
  file('src/kafka/notes.md', 1);
  file('test/unit/anything.test.ts', 1);
  file('schemas/payment.avsc', 1);
  expect(buildState(base)).toEqual({ state: 'current' });
});
