/** Placeholder until the dlq command is built. */
export function run(): Promise<number> {
  process.stderr.write('escrow-worker dlq: not built yet\n');
  return Promise.resolve(1);
}
