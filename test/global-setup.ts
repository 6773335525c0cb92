/**
 * Finds or starts the real services, then migrates a template database that
 * every integration test file clones. What it decides reaches the test workers
 * through process.env, which they inherit.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { servicesUp } from '../infra/services/cli';
import { startContainers } from './support/containers';
import { createDatabase } from './support/databases';
import {
  type EndpointSource,
  type Endpoints,
  dockerAnswers,
  endpointsFromEnvironment,
  localEndpoints,
  withDatabase,
} from './support/endpoints';
import { testRun } from './support/run';

declare global {
  var escrowTestContainers: { stop(): Promise<void> } | undefined;
}

async function findServices(
  docker: boolean,
): Promise<{ endpoints: Endpoints; source: EndpointSource }> {
  const fromEnvironment = endpointsFromEnvironment(process.env);
  if (fromEnvironment) return { endpoints: fromEnvironment, source: 'environment' };
  if (docker) {
    const containers = await startContainers();
    globalThis.escrowTestContainers = containers;
    return { endpoints: containers.endpoints, source: 'testcontainers' };
  }
  await servicesUp();
  return { endpoints: localEndpoints, source: 'services:up' };
}

function migrate(databaseUrl: string): void {
  const root = path.resolve(__dirname, '..');
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/db/migrate-cli.ts'],
    { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`Migrating the template database failed:\n${result.stderr}${result.stdout}`);
  }
}

export default async function globalSetup(): Promise<void> {
  const docker = await dockerAnswers();
  const { endpoints, source } = await findServices(docker);
  const run = testRun(`${Date.now().toString(36)}${randomBytes(2).toString('hex')}`);
  await createDatabase(endpoints.DATABASE_URL, run.templateDatabase);
  migrate(withDatabase(endpoints.DATABASE_URL, run.templateDatabase));
  Object.assign(process.env, endpoints, {
    ESCROW_TEST_RUN_ID: run.runId,
    ESCROW_TEST_SERVICES: source,
    ESCROW_TEST_DOCKER: docker ? '1' : '0',
  });
  process.stderr.write(`\n[test] services from ${source}; run ${run.runId}\n`);
}
