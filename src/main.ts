/**
 * `npm start`: the worker, configured from the environment. SIGTERM or SIGINT
 * stops fetching, finishes the message in hand, commits, releases locks and
 * closes pools; a second signal exits at once.
 */
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
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `escrow-worker failed to start: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exit(1);
});
