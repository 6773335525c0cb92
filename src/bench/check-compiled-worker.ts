/**
 * `npm start`'s prestart: refuses to start a compiled worker that is missing
 * or older than its sources, naming the fix, rather than running code that is
 * not what the checkout says. It does not build by itself: several workers
 * started at once (a fleet, a supervisor) would run several builds into the
 * same folder, and a start should not quietly take the build's time.
 */
import { buildState, notCurrentReason } from './compiled-worker';

const reason = notCurrentReason(buildState());
if (reason !== null) {
  process.stderr.write(
    `escrow-worker: ${reason}. Run \`npm run build\` first, ` +
      `or \`npm run start:dev\` to run the sources through tsx instead.\n`,
  );
  process.exit(1);
}
