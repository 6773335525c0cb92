/**
 * `npm run services:up | services:down [-- --wipe] | services:status`
 *
 * Brings up, on a machine without Docker, everything the worker needs: a real
 * Kafka broker (from Maven Central jars), the schema registry, Postgres with the
 * `escrow` database, and Redis. A second `up` finds them running and does
 * nothing; `down` stops only what `up` started.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { defaults } from '../../src/config';
import { BROKER_PORT, kafkaAnswers, startKafka } from './kafka';
import { ensurePostgres, ensureRedis } from './postgres';
import { REGISTRY_PORT, registryAnswers, startRegistry, wipeRegistryStore } from './registry';
import {
  ServicesError,
  commandLineOf,
  log,
  portOpen,
  processAlive,
  run,
  stopProcess,
} from './shell';
import { type ServiceName, readStarted, servicesDir, writeStarted } from './state';

export async function servicesUp(): Promise<void> {
  await ensurePostgres();
  await ensureRedis();
  await startKafka();
  await startRegistry();
  process.stdout.write(
    [
      "# local services are up; the worker's defaults already point at them:",
      `KAFKA_BROKERS=${defaults.KAFKA_BROKERS}`,
      `SCHEMA_REGISTRY_URL=${defaults.SCHEMA_REGISTRY_URL}`,
      `DATABASE_URL=${defaults.DATABASE_URL}`,
      `REDIS_URL=${defaults.REDIS_URL}`,
      '',
    ].join('\n'),
  );
}

export async function servicesDown(options: { wipe: boolean }): Promise<void> {
  const started = readStarted();
  // Stop in the reverse order of `up`: the registry and Kafka first.
  const order: ServiceName[] = ['registry', 'kafka', 'redis', 'postgres'];
  for (const name of order) {
    const service = started[name];
    if (!service) continue;
    if (service.pid !== undefined) {
      const ours = service.commandMarker
        ? commandLineOf(service.pid).includes(service.commandMarker)
        : true;
      if (processAlive(service.pid) && ours) {
        log(`stopping ${name} (pid ${service.pid})`);
        await stopProcess(service.pid, 30_000);
      }
    } else if (service.stopCommand) {
      const [command, ...args] = service.stopCommand;
      log(`stopping ${name}: ${service.stopCommand.join(' ')}`);
      const result = await run(command!, args, { timeoutMs: 60_000 });
      if (result.code !== 0) log(`could not stop ${name}: ${result.output.trim()}`);
    }
    delete started[name];
    writeStarted(started);
  }
  if (options.wipe) {
    const kafkaData = path.join(servicesDir, 'kafka');
    log(`removing local Kafka data in ${kafkaData}`);
    rmSync(kafkaData, { recursive: true, force: true });
    // The registry's ids are what Kafka's messages name: they go together.
    if (await portOpen(5432)) await wipeRegistryStore();
    else
      log(
        'Postgres is not running: the schema registry database was left; wipe again once it runs',
      );
  }
  log('done; services that were running before `services:up` were left alone');
}

async function servicesStatus(): Promise<void> {
  const started = readStarted();
  const rows: [string, boolean][] = [
    ['kafka', await kafkaAnswers([`127.0.0.1:${BROKER_PORT}`])],
    ['registry', await registryAnswers()],
    ['postgres', await portOpen(5432)],
    ['redis', await portOpen(6379)],
  ];
  for (const [name, up] of rows) {
    const owner = started[name as ServiceName]
      ? 'started by services:up'
      : 'not started by services:up';
    process.stdout.write(`${name.padEnd(9)} ${up ? 'up  ' : 'down'}  ${owner}\n`);
  }
  process.stdout.write(`registry port ${REGISTRY_PORT}\n`);
}

async function main(): Promise<void> {
  const [command, ...flags] = process.argv.slice(2);
  if (command === 'up') return servicesUp();
  if (command === 'down') return servicesDown({ wipe: flags.includes('--wipe') });
  if (command === 'status') return servicesStatus();
  throw new ServicesError('usage: services (up | down [--wipe] | status)');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof ServicesError) {
      process.stderr.write(`\nservices: ${error.message}\n`);
    } else {
      process.stderr.write(
        `\nservices: unexpected failure: ${String((error as Error)?.stack ?? error)}\n`,
      );
    }
    process.exit(1);
  });
}
