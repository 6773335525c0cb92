/**
 * A real Apache Kafka broker from its Maven Central jars: one KRaft node
 * (broker + controller) on 127.0.0.1:9092, controller on 9093, data and logs in
 * .services/kafka. Used on machines without a Docker engine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
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

export const KAFKA_VERSION = '3.9.1';
export const BROKER_PORT = 9092;
const CONTROLLER_PORT = 9093;

const pomFile = path.join(projectRoot, 'infra', 'kafka', 'pom.xml');
const libsDir = path.join(projectRoot, 'infra', 'kafka', 'target', 'libs');
const kafkaDir = path.join(servicesDir, 'kafka');
const dataDir = path.join(kafkaDir, 'data');
const serverLog = path.join(kafkaDir, 'server.log');
const stdoutLog = path.join(kafkaDir, 'stdout.log');

/** True when a Kafka broker answers metadata requests on the port. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    brokers,
    clientId: 'escrow-services-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1500,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function checkJava(): void {
  if (!commandExists('java')) {
    throw new ServicesError(
      'Java is not installed, and the local Kafka broker runs on it. Install Java 17 ' +
        '(Debian: apt-get install -y openjdk-17-jre-headless), or point KAFKA_BROKERS at a running broker.',
    );
  }
}

async function fetchJars(): Promise<void> {
  if (existsSync(path.join(libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`))) return;
  if (!commandExists('mvn')) {
    throw new ServicesError(
      `Maven is not installed, and it fetches the Kafka ${KAFKA_VERSION} jars from Maven Central. ` +
        'Install it (Debian: apt-get install -y maven), or point KAFKA_BROKERS at a running broker.',
    );
  }
  log(
    `fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (cached in ~/.m2 after the first run)`,
  );
  const result = await run('mvn', ['-B', '-q', '-f', pomFile, 'package'], {
    timeoutMs: 10 * 60_000,
  });
  if (result.code === 0 && existsSync(path.join(libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`)))
    return;
  const unreachable =
    /(Could not transfer|UnknownHost|Connection refused|Network is unreachable|timed out|Could not resolve)/i;
  const cause = result.timedOut
    ? 'Maven did not finish within 10 minutes.'
    : unreachable.test(result.output)
      ? 'Maven Central is unreachable from this machine (check the network, a proxy, or a mirror in ~/.m2/settings.xml).'
      : 'Maven failed.';
  throw new ServicesError(
    `${cause} Could not fetch the Kafka jars.\n--- mvn output (last lines) ---\n${tail(result.output, 15)}`,
  );
}

function writeBrokerConfig(): string {
  mkdirSync(dataDir, { recursive: true });
  const properties = path.join(kafkaDir, 'server.properties');
  writeFileSync(
    properties,
    [
      '# Written by `npm run services:up`: one local KRaft node for development and tests.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}`,
      `listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=3',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=10',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(kafkaDir, 'log4j.properties'),
    [
      'log4j.rootLogger=INFO, file',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.appender.file=org.apache.log4j.RollingFileAppender',
      `log4j.appender.file.File=${serverLog}`,
      'log4j.appender.file.MaxFileSize=20MB',
      'log4j.appender.file.MaxBackupIndex=2',
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  return properties;
}

const classpath = () => `${libsDir}/*`;

async function formatStorage(properties: string): Promise<void> {
  if (existsSync(path.join(dataDir, 'meta.properties'))) return;
  // A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
  const clusterId = randomBytes(16).toString('base64url');
  const result = await run(
    'java',
    ['-cp', classpath(), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
    { timeoutMs: 60_000 },
  );
  if (result.code !== 0) {
    throw new ServicesError(
      `Could not format the Kafka data folder ${dataDir}.\n${tail(result.output, 10)}\n` +
        'Fix: run `npm run services:down -- --wipe` to remove the local Kafka data, then `npm run services:up`.',
    );
  }
}

function explainFailure(output: string): string {
  if (
    /InconsistentClusterId|meta\.properties|Invalid cluster\.id|CorruptRecord|corrupt/i.test(output)
  ) {
    return (
      `The Kafka data folder ${dataDir} is stale or corrupt. ` +
      'Fix: run `npm run services:down -- --wipe` (it deletes only local Kafka data), then `npm run services:up`.'
    );
  }
  if (/Address already in use|BindException/i.test(output)) {
    return `A port Kafka needs (${BROKER_PORT} or ${CONTROLLER_PORT}) is taken. Stop what holds it and retry.`;
  }
  return `See ${serverLog} and ${stdoutLog}.`;
}

function readLogs(): string {
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return `${tail(read(serverLog), 20)}\n${tail(read(stdoutLog), 20)}`;
}

/** Starts the broker unless one already answers on 127.0.0.1:9092. */
export async function startKafka(): Promise<void> {
  const brokers = [`127.0.0.1:${BROKER_PORT}`];
  if (await portOpen(BROKER_PORT)) {
    if (await kafkaAnswers(brokers)) {
      log(`Kafka is already running on 127.0.0.1:${BROKER_PORT}; leaving it as it is`);
      return;
    }
    throw new ServicesError(
      `Port ${BROKER_PORT} is taken by ${listenerOf(BROKER_PORT)}, which is not a Kafka broker. ` +
        'Stop it, or point KAFKA_BROKERS at a broker of your own.',
    );
  }
  if (await portOpen(CONTROLLER_PORT)) {
    throw new ServicesError(
      `Port ${CONTROLLER_PORT} (the local Kafka controller) is taken by ${listenerOf(CONTROLLER_PORT)}. Stop it and retry.`,
    );
  }
  checkJava();
  await fetchJars();
  const properties = writeBrokerConfig();
  await formatStorage(properties);

  const out = openSync(stdoutLog, 'a');
  const child = spawn(
    'java',
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${path.join(kafkaDir, 'log4j.properties')}`,
      `-Dkafka.logs.dir=${kafkaDir}`,
      '-cp',
      classpath(),
      'kafka.Kafka',
      properties,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new ServicesError('Could not start java for the Kafka broker.');
  recordStarted('kafka', { pid, commandMarker: properties, startedAt: new Date().toISOString() });
  log(`starting Kafka ${KAFKA_VERSION} (pid ${pid}), logs in ${kafkaDir}`);

  await waitFor(
    'Kafka',
    async () => {
      if (!processAlive(pid)) {
        const logs = readLogs();
        throw new ServicesError(
          `The Kafka broker exited while starting. ${explainFailure(logs)}\n${logs}`,
        );
      }
      return kafkaAnswers(brokers);
    },
    90_000,
    () => `${explainFailure(readLogs())}\n${readLogs()}`,
  );
  log(`Kafka is ready on 127.0.0.1:${BROKER_PORT}`);
}
