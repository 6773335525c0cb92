/**
 * Runs one of the project's commands as a real child process, the way an
 * operator would (`node --import tsx <script> ...args`), and collects its exit
 * code and both output streams. A command still running after `timeoutMs`
 * gets SIGINT, as a user's Ctrl-C, so its own clean-up still runs.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const root = path.resolve(__dirname, '..', '..');

export function runScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 80_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `escrow-worker <args>` from this checkout (src/cli/main.ts). */
export const runCli = (args: readonly string[], env: NodeJS.ProcessEnv) =>
  runScript('src/cli/main.ts', args, env);
