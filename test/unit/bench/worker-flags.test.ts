/** The benchmark runs the worker with the node flags it is deployed with. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerNodeFlags } from '../../../src/bench/worker-process';

const root = join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

test('npm start runs the worker with the benchmark’s node flags', () => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    .start!;
  expect(start).toBe(`node ${workerNodeFlags.join(' ')} --import tsx src/main.ts`);
});

test('the image runs the worker with the benchmark’s node flags', () => {
  const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
  expect(JSON.parse(cmd!)).toEqual(['node', ...workerNodeFlags, 'dist/src/main.js']);
});
