/** Placeholder until the marketplace demo is built. */
process.stderr.write('demo: not built yet\n');
process.exitCode = 1;
