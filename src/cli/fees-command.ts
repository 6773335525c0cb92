/** Placeholder until the fees command is built. */
export function run(): Promise<number> {
  process.stderr.write('escrow-worker fees: not built yet\n');
  return Promise.resolve(1);
}
