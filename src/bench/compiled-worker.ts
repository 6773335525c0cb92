/**
 * The worker runs compiled: `npm start`, the image and the bench all run
 * dist/src/main.js (`npm run build`), not the sources through tsx, whose
 * loader adds its own start-up and memory to every process. The compiled
 * worker is current when dist/src/main.js is newer than every TypeScript
 * file the build compiles and than the two tsconfig files: tsc writes every
 * output on each build, so the entry's time is the build's, and a checkout
 * or an edit gives a source a newer time.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(__dirname, '..', '..');

/** What `npm start` runs, relative to the repository's root. */
export const compiledEntry = path.join('dist', 'src', 'main.js');

/** The folders tsconfig.build.json includes, and the configuration it reads. */
const sourceFolders = ['src', 'consumers', 'migrations'];
const buildConfigs = ['tsconfig.json', 'tsconfig.build.json'];

export type BuildState =
  | { readonly state: 'current' }
  | { readonly state: 'missing' }
  | { readonly state: 'stale'; readonly newerSource: string };

const modifiedMs = (file: string): number | null => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/** The first input (relative to `base`) changed after `sinceMs`, or null when there is none. */
function newerInput(base: string, sinceMs: number): string | null {
  for (const config of buildConfigs) {
    if ((modifiedMs(path.join(base, config)) ?? 0) > sinceMs) return config;
  }
  const pending = [...sourceFolders];
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    let entries;
    try {
      entries = readdirSync(path.join(base, folder), { withFileTypes: true });
    } catch {
      continue; // a folder the checkout lacks compiles to nothing
    }
    for (const entry of entries) {
      const relative = path.join(folder, entry.name);
      if (entry.isDirectory()) pending.push(relative);
      else if (
        entry.name.endsWith('.ts') &&
        (modifiedMs(path.join(base, relative)) ?? 0) > sinceMs
      ) {
        return relative;
      }
    }
  }
  return null;
}

export function buildState(base = root): BuildState {
  const builtMs = modifiedMs(path.join(base, compiledEntry));
  if (builtMs === null) return { state: 'missing' };
  const newerSource = newerInput(base, builtMs);
  return newerSource === null ? { state: 'current' } : { state: 'stale', newerSource };
}

/** Why the compiled worker cannot be run as it is; null when it can. */
export function notCurrentReason(state: BuildState): string | null {
  switch (state.state) {
    case 'current':
      return null;
    case 'missing':
      return `${compiledEntry} does not exist`;
    case 'stale':
      return `${compiledEntry} is older than ${state.newerSource}`;
  }
}

/**
 * Runs `npm run build` when the compiled worker is missing or stale, its
 * output on stderr (stdout is the caller's); rejects when the build fails.
 */
export async function buildIfNeeded(
  env: NodeJS.ProcessEnv,
  progress: (line: string) => void,
): Promise<void> {
  const reason = notCurrentReason(buildState());
  if (reason === null) return;
  progress(`building the worker (npm run build): ${reason}`);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'build'], {
      cwd: root,
      env,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`npm run build failed with code ${code}; the compiled worker cannot be run`);
  }
  progress(`built the worker in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
