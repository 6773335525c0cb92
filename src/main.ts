/**
 * `npm start`: the one place the worker is wired together. The consumers,
 * outbox relay, timers and operations API arrive with the message-pipeline
 * issue; until then the worker validates its configuration and says so.
 */
import { ConfigError, loadConfig } from './config';

function main(): void {
  try {
    loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  process.stderr.write(
    'escrow-worker: the configuration is valid, but the consumers, outbox relay and timers are not built yet.\n',
  );
  process.exit(1);
}

main();
