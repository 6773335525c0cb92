/**
 * `npm run test:faults [-- --short]`: the fault-injection suite
 * (docs/fault-injection.md). Not a jest test on purpose: it is one long run
 * whose last line must be its JSON counts, with an exit code that says 0 only
 * when nothing was found, and jest would print its own summary after it.
 *
 * This entry file reads the environment once, through loadConfig, for what
 * the suite shares with everything else (KAFKA_BROKERS, SCHEMA_REGISTRY_URL);
 * Postgres and Redis it brings itself, so it can restart them.
 */
import { ConfigError, loadConfig } from '../../src/config';
import { checkServices, withTimeout } from '../../src/demo/service-checks';
import { parseOptions, usage, UsageError } from './options';
import { CleanUp, type Say } from './run-resources';
import { runSuite } from './suite';

const startedAt = Date.now();
/** Progress lines carry the seconds since the start, so slow phases show. */
const say: Say = (line) => {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${seconds}s] ${line}\n`);
};
const print: Say = (line) => void process.stdout.write(`${line}\n`);
const complain = (line: string) => void process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    print(usage);
    return 0;
  }
  let options;
  let config;
  try {
    options = parseOptions(args);
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof UsageError) complain(`test:faults: ${error.message}\n\n${usage}`);
    else if (error instanceof ConfigError) complain(error.message);
    else throw error;
    return 2;
  }
  await checkServices(config);

  const cleanUp = new CleanUp();
  let interrupted = false;
  const interrupt = (signal: string) => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now
    interrupted = true;
    complain(`test:faults: ${signal}; stopping the workers and the suite's services`);
    void cleanUp.run(complain).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));

  const size = options.short ? 'short' : 'full';
  say(
    `fault-injection suite (${size} run, seed ${options.seed}; repeat with --seed ${options.seed})`,
  );
  const started = Date.now();
  let counts;
  try {
    counts = await withTimeout(
      runSuite(options, config, { say, print }, cleanUp),
      options.overallMs,
      `the ${size} fault run`,
    );
  } catch (error) {
    complain(`test:faults: the run could not finish: ${(error as Error).stack ?? String(error)}`);
  } finally {
    await cleanUp.run(complain);
  }
  if (!counts) {
    // Still one JSON line last, so CI parsing it sees the failure rather than nothing.
    print(
      JSON.stringify({
        events: 0,
        kills: 0,
        restarts: 0,
        badMessages: 0,
        duplicatesAbsorbed: 0,
        discrepancies: 1,
        error: 'the run did not finish',
        seed: options.seed,
        seconds: Math.round((Date.now() - started) / 1000),
      }),
    );
    return 1;
  }
  print('');
  print(
    `${counts.discrepancies === 0 ? 'PASS' : 'FAIL'}: ${counts.events} events of ${counts.orders} orders, ` +
      `${counts.kills} kills (${counts.selfKills} right after a commit), ${counts.restarts} restarts (${counts.workerRestarts} workers, ${counts.redisRestarts} Redis, ` +
      `${counts.postgresRestarts} Postgres), ${counts.offsetRewinds} offset rewinds, ${counts.badMessages} bad messages, ` +
      `${counts.settlements} requests settled (${counts.settlementsFailed} failed), ${counts.chargebacks} chargebacks, ` +
      `${counts.duplicatesAbsorbed} duplicates absorbed, ${counts.discrepancies} discrepancies, ${counts.seconds} s`,
  );
  print(JSON.stringify(counts));
  return counts.discrepancies === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    complain(`test:faults failed to start: ${(error as Error).message}`);
    process.exit(1);
  },
);
