/**
 * Before the demo creates anything: are Kafka and the schema registry
 * there? The clients retry patiently, as a worker should; a demo should say
 * within seconds that a service is missing and how to start it.
 */
import { RegistryAccessRefused } from '../codec/registry-access';
import { RegistryCodec } from '../codec/registry-codec';
import type { Config } from '../config';
import { createKafka } from '../kafka/client';

const answerWithinMs = 5000;

/** Resolves as `work` does, or rejects naming `what` once `ms` have passed. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkServices(config: Config): Promise<void> {
  const fix = 'Start the local services with `npm run services:up`, or fix';
  const admin = createKafka({ ...config, LOG_LEVEL: 'silent' }, 'escrow-demo-check').admin();
  try {
    await withTimeout(
      admin.connect().then(() => admin.describeCluster()),
      answerWithinMs,
      `Kafka at ${config.KAFKA_BROKERS.join(',')}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}. ${fix} KAFKA_BROKERS.`, { cause: error });
  } finally {
    void admin.disconnect().catch(() => undefined);
  }
  try {
    await withTimeout(
      RegistryCodec.fromConfig(config).ping(),
      answerWithinMs,
      `the schema registry at ${config.SCHEMA_REGISTRY_URL}`,
    );
  } catch (error) {
    if (error instanceof RegistryAccessRefused) throw error;
    throw new Error(
      `The schema registry at ${config.SCHEMA_REGISTRY_URL} is not usable (${(error as Error).message}). ` +
        `${fix} SCHEMA_REGISTRY_URL.`,
      { cause: error },
    );
  }
}
