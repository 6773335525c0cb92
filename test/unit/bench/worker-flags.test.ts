/** The benchmark runs the worker with the node flags it is deployed with. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledEntry } from '../../../src/bench/compiled-worker';
import { workerNodeFlags } from '../../../src/bench/worker-process';

const root = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

test('npm start runs the compiled worker, the one the benchmark spawns, with the benchmark’s node flags', () => {
  expect(compiledEntry).toBe('dist/src/main.js');
  expect(scripts.start).toBe(`node ${workerNodeFlags.join(' ')} ${compiledEntry}`);
});

test('npm run start:dev runs the sources through tsx with the same flags', () => {
  expect(scripts['start:dev']).toBe(`node ${workerNodeFlags.join(' ')} --import tsx src/main.ts`);
});

test('the image runs the worker with the benchmark’s node flags', () => {
  const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
  expect(JSON.parse(cmd!)).toEqual(['node', ...workerNodeFlags, compiledEntry]);
});

test('this node starts with the flags: a release whose V8 dropped one would refuse them ("bad option") and the worker would not start', () => {
  const started = spawnSync(process.execPath, [...workerNodeFlags, '-e', 'process.exit(0)'], {
    encoding: 'utf8',
  });
  expect({ status: started.status, stderr: started.stderr }).toEqual({ status: 0, stderr: '' });
});
