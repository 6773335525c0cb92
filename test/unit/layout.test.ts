/**
 * Dependencies point down: no file of the worker imports one that imports it
 * back, and no folder of src/ does either, type-only imports included (lint's
 * import-x/no-cycle follows value imports only). Read from the sources' own
 * import lines, so a new circle fails here with the files that close it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

const files = [...sourceFiles('src'), ...sourceFiles('consumers')];
const known = new Set(files);

/** The project files a file imports (`from '...'`, `import('...')`, `require('...')`), relative ones only. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const targets = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)'(\.{1,2}\/[^']+)'/g)];
  return targets.flatMap(([, specifier]) => {
    const base = path.join(path.dirname(file), specifier!);
    const found = [`${base}.ts`, path.join(base, 'index.ts')].find((name) => known.has(name));
    return found === undefined ? [] : [found];
  });
}

/** Every strongly connected group of more than one node (Tarjan), as sorted lists. */
function circles(edges: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) found.push(group.sort());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

const fileEdges = new Map(files.map((file) => [file, new Set(importsOf(file))]));

/** src/<folder> for files in a folder of src/, the file itself for src/main.ts and the like. */
const folderOf = (file: string) => {
  const parts = file.split(path.sep);
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : file;
};

test('the import reader sees the imports (a check that cannot see any would pass vacuously)', () => {
  expect(importsOf('src/pipeline/slice-plan.ts')).toContain('src/domain/escrow/index.ts');
  expect([...fileEdges.values()].reduce((sum, targets) => sum + targets.size, 0)).toBeGreaterThan(
    300,
  );
  const ring = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a'])],
    ['d', new Set(['a'])],
  ]);
  expect(circles(ring)).toEqual([['a', 'b', 'c']]);
});

test('no file imports one that imports it back', () => {
  expect(circles(fileEdges)).toEqual([]);
});

test('no folder of src/ imports one that imports it back', () => {
  const folderEdges = new Map<string, Set<string>>();
  for (const [file, targets] of fileEdges) {
    const from = folderOf(file);
    const edges = folderEdges.get(from) ?? new Set<string>();
    for (const target of targets) if (folderOf(target) !== from) edges.add(folderOf(target));
    folderEdges.set(from, edges);
  }
  expect(circles(folderEdges)).toEqual([]);
});
