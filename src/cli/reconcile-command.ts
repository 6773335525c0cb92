/** Placeholder until the reconcile command is built. */
export function run(): Promise<number> {
  process.stderr.write('escrow-worker reconcile: not built yet\n');
  return Promise.resolve(1);
}
