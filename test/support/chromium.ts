/**
 * A real browser for the console's test: Debian's Chromium, driven by
 * playwright-core (which brings no browser of its own). Installed with
 * apt-get when /usr/bin/chromium is missing (the machine runs the tests as
 * root); a failed install stops the test with what to run by hand. Headless,
 * and without Chromium's sandbox, which refuses to start as root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 15 * 60_000,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`;
  return { ok: result.status === 0, output: output.slice(-2000) };
}

/** Installs Debian's chromium package unless it is there already. */
export function ensureChromium(): void {
  if (existsSync(chromiumPath)) return;
  const fix = 'install it by hand: apt-get update && apt-get install -y chromium (as root)';
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${chromiumPath} is missing and this process is not root to install it: ${fix}`,
    );
  }
  for (const [command, args] of [
    ['apt-get', ['update']],
    ['apt-get', ['install', '-y', '--no-install-recommends', 'chromium']],
  ] as const) {
    const result = run(command, [...args]);
    if (!result.ok) {
      throw new Error(
        `${command} ${args.join(' ')} failed, so the console cannot be tested in a browser; ${fix}.\n` +
          result.output,
      );
    }
  }
  if (!existsSync(chromiumPath)) {
    throw new Error(`apt-get installed chromium but ${chromiumPath} is still missing; ${fix}`);
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}
