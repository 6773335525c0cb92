/**
 * Leaves nothing behind: drops the run's template and any per-file database a
 * crashed file did not drop, deletes the run's topics, consumer groups and schema subjects, and
 * stops testcontainers if the setup started them. Services started by
 * `services:up` stay up for the next run; `npm run services:down` stops them.
 */
import { Kafka, logLevel } from 'kafkajs';
import { deleteSubjectsWithPrefix } from '../src/codec/registry-subjects';
import { dropDatabases } from './support/databases';
import { currentTestRun } from './support/run';

export default async function globalTeardown(): Promise<void> {
  const run = currentTestRun();
  const databaseUrl = process.env.DATABASE_URL!;
  await dropDatabases(databaseUrl, run.databasePrefix);
  await dropDatabases(databaseUrl, run.templateDatabase);
  const kafka = new Kafka({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(run.topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const { groups } = await admin.listGroups();
    const ours = groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(run.topicPrefix));
    if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  // The local registry keeps its schemas: a run's subjects go with its topics.
  await deleteSubjectsWithPrefix(process.env.SCHEMA_REGISTRY_URL!, run.topicPrefix).catch(
    (error: unknown) =>
      process.stderr.write(`[test] could not delete the run's schema subjects: ${String(error)}
`),
  );
  await globalThis.escrowTestContainers?.stop();
}
