/**
 * `npm start`: the worker, configured from the environment. SIGTERM or SIGINT
 * stops fetching, finishes the message in hand, commits, releases locks and
 * closes pools; a second signal exits at once.
 *
 * If the Kafka consumer crashes and KafkaJS will not restart it, the process
 * would consume nothing more while its relay, timer and API went on: it stops
 * the same orderly way and exits with code 1, so that its supervisor (systemd,
 * Kubernetes, compose `restart:`) starts a fresh one that joins the group again.
 */
import './kafka/kafkajs-patches';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logging/logger';
import { startWorker } from './worker';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config);
  const worker = await startWorker(config, log);
  let stopping = false;
  const shutdown = (signal: string, exitCode: 0 | 1) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    worker.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  void worker.consumerStopped.then(() => {
    if (stopping) return;
    log.error('exiting with code 1 so that the supervisor starts a fresh worker');
    // An orderly stop should take seconds; a stop that hangs must not keep a useless process up.
    setTimeout(() => process.exit(1), CONSUMER_STOPPED_EXIT_MS).unref();
    shutdown('consumer stopped', 1);
  });
}

const CONSUMER_STOPPED_EXIT_MS = 30_000;

main().catch((error: unknown) => {
  // An error that says what to fix (a code, not retryable: a missing subject in
  // read-only registry mode, ...) is printed as it is; anything else with its stack.
  const told = error as { code?: unknown; retryable?: unknown; message?: unknown };
  const actionable = typeof told.code === 'string' && told.retryable === false;
  process.stderr.write(
    `escrow-worker failed to start: ${actionable ? String(told.message) : ((error as Error).stack ?? String(error))}\n`,
  );
  process.exit(1);
});
