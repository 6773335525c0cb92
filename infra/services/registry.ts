/**
 * The schema registry for machines without Docker: a real Apicurio Registry
 * (2.4.2.Final), built from Maven Central by infra/registry/pom.xml and run on
 * 127.0.0.1:8081, its schemas stored in the database `escrow_registry` on the
 * local Postgres. Its Confluent-compatible API is served at the root, so
 * @kafkajs/confluent-schema-registry talks to it as to a Confluent registry.
 * Differences from Confluent that matter are listed in the README ("Schema
 * registry").
 *
 * The store must outlive the process: every message on Kafka names its schema
 * by the registry's id, so a registry that forgot its ids on a restart would
 * make every message still on a topic (the dead-letter topic included)
 * undecodable. `services:down -- --wipe` drops this database together with
 * Kafka's data, so the two never disagree.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { explainMavenFailure } from './kafka';
import { createDatabase, dropDatabase } from './postgres';
import { projectRoot, recordStarted, servicesDir } from './state';
import {
  ServicesError,
  commandExists,
  listenerOf,
  log,
  portOpen,
  processAlive,
  run,
  tail,
  waitFor,
} from './shell';

export const REGISTRY_PORT = 8081;
const registryProject = path.join(projectRoot, 'infra', 'registry');
const runnerJar = path.join(registryProject, 'target', 'registry-runner.jar');
/** What the runner jar was built from, so a changed pom or property rebuilds it. */
const buildStampFile = path.join(registryProject, 'target', 'build-inputs.sha256');

/** The registry's own database on the local Postgres. */
export const REGISTRY_DATABASE = 'escrow_registry';

/** Where and how the local registry runs; a test that restarts one uses other values. */
export interface LocalRegistryLayout {
  port: number;
  /** Its database on the local Postgres (created when missing). */
  database: string;
  logFile: string;
  /** Records the started registry for services:down; tests that start their own skip it. */
  record: boolean;
}

export const defaultRegistryLayout: LocalRegistryLayout = {
  port: REGISTRY_PORT,
  database: REGISTRY_DATABASE,
  logFile: path.join(servicesDir, 'registry', 'registry.log'),
  record: true,
};

/** A hash of everything the Quarkus build reads from this project. */
function buildInputsHash(): string {
  const hash = createHash('sha256');
  const inputs = [
    path.join(registryProject, 'pom.xml'),
    path.join(registryProject, 'settings.xml'),
  ];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else inputs.push(full);
    }
  };
  walk(path.join(registryProject, 'src'));
  for (const file of inputs.sort()) {
    hash.update(path.relative(registryProject, file)).update('\0').update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** True when a Confluent-API registry answers GET /subjects on the port. */
export async function registryAnswers(port = REGISTRY_PORT): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/subjects`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok && Array.isArray(await response.json());
  } catch {
    return false;
  }
}

async function buildRegistry(): Promise<void> {
  const inputs = buildInputsHash();
  const built = existsSync(buildStampFile) ? readFileSync(buildStampFile, 'utf8').trim() : '';
  if (existsSync(runnerJar) && built === inputs) return;
  if (!commandExists('java') || !commandExists('mvn')) {
    throw new ServicesError(
      'Java 17 and Maven are needed to build the local schema registry (Apicurio Registry). ' +
        'Install them (Debian: apt-get install -y openjdk-17-jdk-headless maven), or set SCHEMA_REGISTRY_URL.',
    );
  }
  log(
    'building the local schema registry (Apicurio Registry 2.4.2) from Maven Central; the first build downloads ~600 MB into ~/.m2',
  );
  const result = await run(
    'mvn',
    ['-B', '-q', '-s', path.join(registryProject, 'settings.xml'), '-DskipTests', 'package'],
    { cwd: registryProject, timeoutMs: 15 * 60_000 },
  );
  if (result.code === 0 && existsSync(runnerJar)) {
    writeFileSync(buildStampFile, inputs + '\n');
    return;
  }
  throw new ServicesError(
    `${explainMavenFailure(result)} Could not build the local schema registry.`,
  );
}

/** Starts the registry unless one already answers on its port; returns the pid it started. */
export async function startRegistry(
  layout: LocalRegistryLayout = defaultRegistryLayout,
): Promise<number | undefined> {
  const { port, logFile } = layout;
  if (await portOpen(port)) {
    if (await registryAnswers(port)) {
      log(`a schema registry is already running on 127.0.0.1:${port}; leaving it as it is`);
      return undefined;
    }
    throw new ServicesError(
      `Port ${port} is taken by ${listenerOf(port)}, which is not a schema registry. ` +
        'Stop it, or set SCHEMA_REGISTRY_URL to a registry of your own.',
    );
  }
  await buildRegistry();
  await createDatabase(layout.database);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(
    'java',
    ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', `-Dquarkus.http.port=${port}`, '-jar', runnerJar],
    {
      cwd: registryProject,
      detached: true,
      env: { ...process.env, ...registryDatasource(layout.database) },
      stdio: ['ignore', out, out],
    },
  );
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new ServicesError('Could not start java for the schema registry.');
  if (layout.record) {
    recordStarted('registry', {
      pid,
      commandMarker: runnerJar,
      startedAt: new Date().toISOString(),
    });
  }
  log(`starting the schema registry (pid ${pid}), log in ${logFile}`);
  const logTail = () => (existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 20) : '');
  await waitFor(
    'The schema registry',
    async () => {
      if (!processAlive(pid)) {
        throw new ServicesError(`The schema registry exited while starting:\n${logTail()}`);
      }
      return registryAnswers(port);
    },
    60_000,
    logTail,
  );
  log(
    `the schema registry is ready on http://127.0.0.1:${port} (schemas in database ${layout.database})`,
  );
  return pid;
}

/** The datasource the registry reads (Apicurio's environment variables). */
function registryDatasource(database: string): Record<string, string> {
  return {
    REGISTRY_DATASOURCE_URL: `jdbc:postgresql://127.0.0.1:5432/${database}`,
    REGISTRY_DATASOURCE_USERNAME: 'postgres',
    // Local Postgres trusts loopback; the driver still wants a value.
    REGISTRY_DATASOURCE_PASSWORD: 'postgres',
  };
}

/** Forgets every schema and id: only while no registry runs, with Kafka's data. */
export async function wipeRegistryStore(): Promise<void> {
  if (await registryAnswers()) {
    log(
      `a schema registry still answers on 127.0.0.1:${REGISTRY_PORT} (not started by services:up); ` +
        `leaving its database ${REGISTRY_DATABASE} alone`,
    );
    return;
  }
  log(`removing the local schema registry's database ${REGISTRY_DATABASE}`);
  await dropDatabase(REGISTRY_DATABASE);
}
