/**
 * The schema registry for machines without Docker: a real Apicurio Registry
 * (2.4.2.Final), built from Maven Central by infra/registry/pom.xml and run on
 * 127.0.0.1:8081 with in-memory storage. Its Confluent-compatible API is
 * served at the root, so @kafkajs/confluent-schema-registry talks to it as to
 * a Confluent registry. Differences from Confluent that matter are listed in
 * the README ("Schema registry").
 */
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { explainMavenFailure } from './kafka';
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
const registryLog = path.join(servicesDir, 'registry', 'registry.log');

/** True when a Confluent-API registry answers GET /subjects on the port. */
export async function registryAnswers(): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${REGISTRY_PORT}/subjects`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok && Array.isArray(await response.json());
  } catch {
    return false;
  }
}

async function buildRegistry(): Promise<void> {
  if (existsSync(runnerJar)) return;
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
  if (result.code === 0 && existsSync(runnerJar)) return;
  throw new ServicesError(
    `${explainMavenFailure(result)} Could not build the local schema registry.`,
  );
}

export async function startRegistry(): Promise<void> {
  if (await portOpen(REGISTRY_PORT)) {
    if (await registryAnswers()) {
      log(
        `a schema registry is already running on 127.0.0.1:${REGISTRY_PORT}; leaving it as it is`,
      );
      return;
    }
    throw new ServicesError(
      `Port ${REGISTRY_PORT} is taken by ${listenerOf(REGISTRY_PORT)}, which is not a schema registry. ` +
        'Stop it, or set SCHEMA_REGISTRY_URL to a registry of your own.',
    );
  }
  await buildRegistry();
  mkdirSync(path.dirname(registryLog), { recursive: true });
  const out = openSync(registryLog, 'a');
  const child = spawn(
    'java',
    [
      '-Xms64m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-Dquarkus.http.port=' + REGISTRY_PORT,
      '-jar',
      runnerJar,
    ],
    { cwd: registryProject, detached: true, env: process.env, stdio: ['ignore', out, out] },
  );
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new ServicesError('Could not start java for the schema registry.');
  recordStarted('registry', { pid, commandMarker: runnerJar, startedAt: new Date().toISOString() });
  log(`starting the schema registry (pid ${pid}), log in ${registryLog}`);
  const logTail = () =>
    existsSync(registryLog) ? tail(readFileSync(registryLog, 'utf8'), 20) : '';
  await waitFor(
    'The schema registry',
    async () => {
      if (!processAlive(pid)) {
        throw new ServicesError(`The schema registry exited while starting:\n${logTail()}`);
      }
      return registryAnswers();
    },
    60_000,
    logTail,
  );
  log(`the schema registry is ready on http://127.0.0.1:${REGISTRY_PORT}`);
}
