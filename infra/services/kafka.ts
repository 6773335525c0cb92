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

/** Keep equal to `kafka.version` in infra/kafka/pom.xml (a unit test compares them). */
export const KAFKA_VERSION = '4.4.0';
export const BROKER_PORT = 9092;

/** Where and how the local broker runs; tests of broken environments use other values. */
export interface LocalKafkaLayout {
  brokerPort: number;
  controllerPort: number;
  /** Data, logs and configuration. */
  dir: string;
  /** The Kafka jars (the Maven build copies them here), one folder per version. */
  libsDir: string;
  /** Extra Maven arguments (tests point Maven at an unreachable repository). */
  mavenArgs: string[];
  /** Records the started broker for services:down; tests that start their own skip it. */
  record: boolean;
}

export const defaultKafkaLayout: LocalKafkaLayout = {
  brokerPort: BROKER_PORT,
  controllerPort: 9093,
  dir: path.join(servicesDir, 'kafka'),
  libsDir: path.join(projectRoot, 'infra', 'kafka', 'target', `libs-${KAFKA_VERSION}`),
  mavenArgs: [],
  record: true,
};

const pomFile = path.join(projectRoot, 'infra', 'kafka', 'pom.xml');
export const brokerFiles = (layout: LocalKafkaLayout) => ({
  dataDir: path.join(layout.dir, 'data'),
  serverLog: path.join(layout.dir, 'server.log'),
  stdoutLog: path.join(layout.dir, 'stdout.log'),
  properties: path.join(layout.dir, 'server.properties'),
  log4j: path.join(layout.dir, 'log4j2.properties'),
});

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

async function fetchJars(layout: LocalKafkaLayout): Promise<void> {
  const brokerJar = path.join(layout.libsDir, `kafka_2.13-${KAFKA_VERSION}.jar`);
  if (existsSync(brokerJar)) return;
  if (!commandExists('mvn')) {
    throw new ServicesError(
      `Maven is not installed, and it fetches the Kafka ${KAFKA_VERSION} jars from Maven Central. ` +
        'Install it (Debian: apt-get install -y maven), or point KAFKA_BROKERS at a running broker.',
    );
  }
  log(
    `fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (cached in ~/.m2 after the first run)`,
  );
  const result = await run(
    'mvn',
    ['-B', '-q', '-f', pomFile, `-DlibsDir=${layout.libsDir}`, ...layout.mavenArgs, 'package'],
    { timeoutMs: 10 * 60_000 },
  );
  if (result.code === 0 && existsSync(brokerJar)) return;
  throw new ServicesError(`${explainMavenFailure(result)} Could not fetch the Kafka jars.`);
}

/** Says why a Maven run failed, with its last lines, in terms a person can act on. */
export function explainMavenFailure(result: { output: string; timedOut: boolean }): string {
  const unreachable =
    /(Could not transfer|UnknownHost|Unknown host|Connection refused|Network is unreachable|Could not resolve|connect timed out)/i;
  const cause = result.timedOut
    ? 'Maven did not finish in time.'
    : unreachable.test(result.output)
      ? 'Maven Central is unreachable from this machine (check the network, a proxy, or a mirror in ~/.m2/settings.xml).'
      : 'Maven failed.';
  return `${cause}\n--- mvn output (last lines) ---\n${tail(result.output, 15)}\n`;
}

/**
 * Writes the node's server.properties and Log4j 2 configuration. `overrides`
 * are appended: a later line wins in a properties file, so a scratch broker
 * (another listener, TLS, SASL) changes only what differs.
 */
export function writeBrokerConfig(layout: LocalKafkaLayout, overrides: string[] = []): void {
  const { dataDir, serverLog, properties, log4j } = brokerFiles(layout);
  const { brokerPort, controllerPort } = layout;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    properties,
    [
      '# Written by `npm run services:up`: one local KRaft node for development and tests.',
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}`,
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
      ...overrides,
      '',
    ].join('\n'),
  );
  // Kafka 4 logs through Log4j 2 (its properties format, not Log4j 1's).
  writeFileSync(
    log4j,
    [
      'status=warn',
      'appender.file.type=RollingFile',
      'appender.file.name=file',
      `appender.file.fileName=${serverLog}`,
      `appender.file.filePattern=${serverLog}.%i`,
      'appender.file.layout.type=PatternLayout',
      'appender.file.layout.pattern=[%d] %p %m (%c)%n',
      'appender.file.policies.type=Policies',
      'appender.file.policies.size.type=SizeBasedTriggeringPolicy',
      'appender.file.policies.size.size=20MB',
      'appender.file.strategy.type=DefaultRolloverStrategy',
      'appender.file.strategy.max=2',
      'rootLogger.level=INFO',
      'rootLogger.appenderRef.file.ref=file',
      'logger.request.name=kafka.request.logger',
      'logger.request.level=WARN',
      '',
    ].join('\n'),
  );
}

export const classpath = (layout: LocalKafkaLayout) => `${layout.libsDir}/*`;

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding. One that starts
 * with `-` (1 in 32) is drawn again, as Kafka's own `Uuid.randomUuid` does: the storage
 * tool's argument parser reads `-t -Xyz…` as a missing value followed by an unknown option.
 */
export function newClusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = draw().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the KRaft data folder once; `extraArgs` go to StorageTool (e.g. --add-scram). */
export async function formatStorage(
  layout: LocalKafkaLayout,
  extraArgs: string[] = [],
): Promise<void> {
  const { dataDir, properties } = brokerFiles(layout);
  if (existsSync(path.join(dataDir, 'meta.properties'))) return;
  // The tests' scratch brokers format storage without startKafka, and the local broker may
  // be running already (so services:up fetched nothing into this checkout): the jars first.
  await fetchJars(layout);
  const clusterId = newClusterId();
  const result = await run(
    'java',
    [
      '-cp',
      classpath(layout),
      'kafka.tools.StorageTool',
      'format',
      `--cluster-id=${clusterId}`,
      '-c',
      properties,
      ...extraArgs,
    ],
    { timeoutMs: 60_000 },
  );
  if (result.code !== 0) {
    throw new ServicesError(
      `Could not format the Kafka data folder ${dataDir}.\n${tail(result.output, 10)}\n` +
        'Fix: run `npm run services:down -- --wipe` to remove the local Kafka data, then `npm run services:up`.',
    );
  }
}

/** Says why the broker did not start, from its logs. */
export function explainBrokerFailure(output: string, layout: LocalKafkaLayout): string {
  const { dataDir, serverLog, stdoutLog } = brokerFiles(layout);
  const stale =
    /InconsistentClusterId|meta\.properties|Invalid cluster\.id|CorruptRecord|corrupt|node ID not found|doesn't match/i;
  // A fatal start-up error that names the data folder is a problem with that folder.
  const aboutDataFolder = output.includes(dataDir) && /fatal exception/i.test(output);
  if (stale.test(output) || aboutDataFolder) {
    return (
      `The Kafka data folder ${dataDir} is stale or corrupt. ` +
      'Fix: run `npm run services:down -- --wipe` (it deletes only local Kafka data), then `npm run services:up`.'
    );
  }
  if (/Address already in use|BindException/i.test(output)) {
    return `A port Kafka needs (${layout.brokerPort} or ${layout.controllerPort}) is taken. Stop what holds it and retry.`;
  }
  return `See ${serverLog} and ${stdoutLog}.`;
}

function readLogs(layout: LocalKafkaLayout): string {
  const { serverLog, stdoutLog } = brokerFiles(layout);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return `${tail(read(serverLog), 20)}\n${tail(read(stdoutLog), 20)}`;
}

/** Starts the broker unless one already answers on its port. */
export async function startKafka(
  layout: LocalKafkaLayout = defaultKafkaLayout,
): Promise<number | undefined> {
  const { brokerPort, controllerPort } = layout;
  const brokers = [`127.0.0.1:${brokerPort}`];
  if (await portOpen(brokerPort)) {
    if (await kafkaAnswers(brokers)) {
      log(`Kafka is already running on 127.0.0.1:${brokerPort}; leaving it as it is`);
      return undefined;
    }
    throw new ServicesError(
      `Port ${brokerPort} is taken by ${listenerOf(brokerPort)}, which is not a Kafka broker. ` +
        'Stop it, or point KAFKA_BROKERS at a broker of your own.',
    );
  }
  if (await portOpen(controllerPort)) {
    throw new ServicesError(
      `Port ${controllerPort} (the local Kafka controller) is taken by ${listenerOf(controllerPort)}. Stop it and retry.`,
    );
  }
  checkJava();
  await fetchJars(layout);
  writeBrokerConfig(layout);
  await formatStorage(layout);

  const { properties, log4j, stdoutLog } = brokerFiles(layout);
  const out = openSync(stdoutLog, 'a');
  const child = spawn(
    'java',
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4j}`,
      `-Dkafka.logs.dir=${layout.dir}`,
      '-cp',
      classpath(layout),
      'kafka.Kafka',
      properties,
    ],
    { detached: true, env: process.env, stdio: ['ignore', out, out] },
  );
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new ServicesError('Could not start java for the Kafka broker.');
  if (layout.record) {
    recordStarted('kafka', { pid, commandMarker: properties, startedAt: new Date().toISOString() });
  }
  log(`starting Kafka ${KAFKA_VERSION} (pid ${pid}), logs in ${layout.dir}`);

  const failure = () => {
    const logs = readLogs(layout);
    return `${explainBrokerFailure(logs, layout)}\n${logs}`;
  };
  await waitFor(
    'Kafka',
    async () => {
      if (!processAlive(pid)) {
        throw new ServicesError(`The Kafka broker exited while starting. ${failure()}`);
      }
      return kafkaAnswers(brokers);
    },
    90_000,
    failure,
  );
  log(`Kafka is ready on 127.0.0.1:${brokerPort}`);
  return pid;
}
