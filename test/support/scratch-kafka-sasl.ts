/**
 * A second Kafka broker for tests, from the jars the local broker runs
 * (infra/services/kafka.ts): one KRaft node whose only client listener is
 * SASL_SSL with SCRAM-SHA-512, its certificate signed by a CA made here
 * (certificates.ts), two users created at format time (an admin and a worker,
 * random passwords), ACLs on, and the worker allowed only its own topics and
 * consumer groups. Everything lives in a temporary folder that stop() removes.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import {
  brokerFiles,
  classpath,
  defaultKafkaLayout,
  formatStorage,
  type LocalKafkaLayout,
  writeBrokerConfig,
} from '../../infra/services/kafka';
import { processAlive, run, stopProcess, tail, waitFor } from '../../infra/services/shell';
import { issueServerCertificate, makeCertificateAuthority } from './certificates';

export interface ScratchUser {
  username: string;
  password: string;
  /** A file holding the password, for KAFKA_SASL_PASSWORD_FILE. */
  passwordFile: string;
}

export interface ScratchKafkaSasl {
  /** host:port of the SASL_SSL listener. */
  brokers: string;
  /** The CA that signs the broker's certificate (PEM). */
  caFile: string;
  /** A CA of its own that signs nothing the broker holds (PEM), for untrusted-certificate tests. */
  otherCaFile: string;
  admin: ScratchUser;
  worker: ScratchUser;
  stop(): Promise<void>;
}

/** A free port below Linux's ephemeral range (see ops-port.ts for why). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function runOrThrow(command: string, args: string[], cwd: string): Promise<void> {
  const result = await run(command, args, { cwd, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new Error(`${command} ${args[0]} failed:\n${tail(result.output, 10)}`);
}

/**
 * A CA, another that signs nothing here, the broker's certificate for
 * 127.0.0.1 and localhost in a PKCS12 keystore, and the CA in a PKCS12
 * truststore (keytool), as Kafka reads them.
 */
async function makeStores(
  dir: string,
  storePassword: string,
): Promise<{ caFile: string; otherCaFile: string }> {
  const ca = await makeCertificateAuthority(dir, 'escrow-worker test CA');
  const other = await makeCertificateAuthority(dir, 'escrow-worker test other CA');
  const broker = await issueServerCertificate(ca, 'localhost');
  await runOrThrow(
    'openssl',
    [
      ...['pkcs12', '-export', '-in', broker.certFile, '-inkey', broker.keyFile],
      ...['-certfile', ca.certFile, '-name', 'broker'],
      ...['-passout', `pass:${storePassword}`, '-out', 'keystore.p12'],
    ],
    dir,
  );
  await runOrThrow(
    'keytool',
    [
      ...['-importcert', '-noprompt', '-alias', 'ca', '-file', ca.certFile],
      ...['-keystore', 'truststore.p12', '-storetype', 'PKCS12', '-storepass', storePassword],
    ],
    dir,
  );
  return { caFile: ca.certFile, otherCaFile: other.certFile };
}

function user(dir: string, username: string): ScratchUser {
  const password = randomBytes(18).toString('base64url');
  const passwordFile = path.join(dir, `${username}.password`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  return { username, password, passwordFile };
}

/**
 * What differs from the local broker: the SASL_SSL listener, its stores, SCRAM
 * for clients and for the broker itself, and the standard authorizer. The
 * node registers with its own controller over the PLAINTEXT controller
 * listener, where it is User:ANONYMOUS: without that super user it is refused
 * CLUSTER_ACTION and never starts.
 */
function securityProperties(
  dir: string,
  ports: { broker: number; controller: number },
  admin: ScratchUser,
  storePassword: string,
): string[] {
  return [
    '# The scratch broker of test/support/scratch-kafka-sasl.ts: SASL_SSL with SCRAM-SHA-512 and ACLs.',
    `listeners=SASL_SSL://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${ports.broker}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin.username}" password="${admin.password}";`,
    `ssl.keystore.location=${path.join(dir, 'keystore.p12')}`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.password=${storePassword}`,
    `ssl.key.password=${storePassword}`,
    `ssl.truststore.location=${path.join(dir, 'truststore.p12')}`,
    'ssl.truststore.type=PKCS12',
    `ssl.truststore.password=${storePassword}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${admin.username};User:ANONYMOUS`,
  ];
}

function clientFor(scratch: Pick<ScratchKafkaSasl, 'brokers' | 'caFile'>, as: ScratchUser): Kafka {
  return new Kafka({
    clientId: 'scratch-kafka-sasl',
    brokers: [scratch.brokers],
    ssl: { ca: [readFileSync(scratch.caFile)] },
    sasl: { mechanism: 'scram-sha-512', username: as.username, password: as.password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1500,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
}

async function answers(scratch: Pick<ScratchKafkaSasl, 'brokers' | 'caFile'>, as: ScratchUser) {
  const admin = clientFor(scratch, as).admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * The worker may read, write, describe and create the topics that start with
 * `prefix`, use the consumer groups that start with it, and write
 * idempotently; nothing else.
 */
async function grantWorker(
  scratch: Pick<ScratchKafkaSasl, 'brokers' | 'caFile'>,
  admin: ScratchUser,
  worker: ScratchUser,
  prefix: string,
): Promise<void> {
  const allow = (
    resourceType: AclResourceTypes,
    resourceName: string,
    resourcePatternType: ResourcePatternTypes,
    operations: AclOperationTypes[],
  ) =>
    operations.map((operation) => ({
      resourceType,
      resourceName,
      resourcePatternType,
      principal: `User:${worker.username}`,
      host: '*',
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    }));
  const client = clientFor(scratch, admin).admin();
  await client.connect();
  try {
    await client.createAcls({
      acl: [
        ...allow(AclResourceTypes.TOPIC, prefix, ResourcePatternTypes.PREFIXED, [
          AclOperationTypes.READ,
          AclOperationTypes.WRITE,
          AclOperationTypes.DESCRIBE,
          AclOperationTypes.CREATE,
        ]),
        ...allow(AclResourceTypes.GROUP, prefix, ResourcePatternTypes.PREFIXED, [
          AclOperationTypes.READ,
          AclOperationTypes.DESCRIBE,
        ]),
        ...allow(AclResourceTypes.CLUSTER, 'kafka-cluster', ResourcePatternTypes.LITERAL, [
          AclOperationTypes.IDEMPOTENT_WRITE,
        ]),
      ],
    });
  } finally {
    await client.disconnect();
  }
}

/** Starts the broker and grants the worker user the topics and groups starting with `prefix`. */
export async function startScratchKafkaSasl(prefix: string): Promise<ScratchKafkaSasl> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'escrow-scratch-kafka-'));
  let pid: number | undefined;
  const stop = async () => {
    if (pid !== undefined) await stopProcess(pid, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const storePassword = randomBytes(12).toString('hex');
    const admin = user(dir, 'admin');
    const worker = user(dir, 'worker');
    const { caFile, otherCaFile } = await makeStores(dir, storePassword);
    const ports = { broker: await freePort(), controller: await freePort() };
    const layout: LocalKafkaLayout = {
      ...defaultKafkaLayout,
      brokerPort: ports.broker,
      controllerPort: ports.controller,
      dir,
      record: false,
    };
    writeBrokerConfig(layout, securityProperties(dir, ports, admin, storePassword));
    await formatStorage(
      layout,
      [admin, worker].flatMap((scram) => [
        '--add-scram',
        `SCRAM-SHA-512=[name=${scram.username},password=${scram.password}]`,
      ]),
    );
    const { properties, log4j, stdoutLog, serverLog } = brokerFiles(layout);
    const out = openSync(stdoutLog, 'a');
    // A small heap: this broker runs beside the local one on a small machine.
    const child = spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4j}`,
        `-Dkafka.logs.dir=${dir}`,
        '-cp',
        classpath(layout),
        'kafka.Kafka',
        properties,
      ],
      { stdio: ['ignore', out, out] },
    );
    pid = child.pid;
    const scratch = {
      brokers: `127.0.0.1:${ports.broker}`,
      caFile,
      otherCaFile,
      admin,
      worker,
      stop,
    };
    const logs = () => [serverLog, stdoutLog].map((file) => tail(readLogFile(file), 20)).join('\n');
    await waitFor(
      'The scratch SASL_SSL broker',
      async () => {
        if (pid === undefined || !processAlive(pid))
          throw new Error(`The scratch SASL_SSL broker exited while starting.\n${logs()}`);
        return answers(scratch, admin);
      },
      60_000,
      logs,
    );
    await grantWorker(scratch, admin, worker, prefix);
    return scratch;
  } catch (error) {
    await stop();
    throw error;
  }
}

function readLogFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
