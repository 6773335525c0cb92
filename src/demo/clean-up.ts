/**
 * Removing what the demo created, and only that: its consumer groups always;
 * its topics, schema subjects and database when they are its own and not
 * kept. Each part is tried on its own and bounded in time, so a broker that
 * went away does not leave the database behind; what could not be removed is
 * named with the way to remove it by hand.
 */
import { createKafka } from '../kafka/client';
import {
  type DemoEnvironment,
  deleteOwnKafkaResources,
  deleteOwnSubjects,
  dropOwnDatabase,
} from './environment';
import { withTimeout } from './service-checks';

export interface CleanUpReport {
  readonly done: string[];
  readonly failed: string[];
}

export async function cleanUp(environment: DemoEnvironment, keep: boolean): Promise<CleanUpReport> {
  const { config, ownDatabase } = environment;
  const report: CleanUpReport = { done: [], failed: [] };
  const attempt = async (what: string, byHand: string, work: () => Promise<string[]>) => {
    try {
      report.done.push(...(await withTimeout(work(), 20_000, what)));
    } catch (error) {
      report.failed.push(`${what} failed (${(error as Error).message}); ${byHand}`);
    }
  };
  const serverUrl = config.DATABASE_URL.replace(/\/[^/]*$/, '/postgres');

  await attempt(
    'deleting the Kafka consumer groups and topics of the demo',
    `delete the groups and topics starting with "${config.TOPIC_PREFIX}" by hand`,
    async () => {
      const kafka = createKafka({ ...config, LOG_LEVEL: 'silent' }, 'escrow-demo-cleanup');
      const removed = await deleteOwnKafkaResources(environment, kafka, { topics: !keep });
      return [
        `deleted the demo's ${removed.groups} consumer groups`,
        ...(environment.ownPrefix && !keep
          ? [`deleted ${removed.topics} topics under "${config.TOPIC_PREFIX}"`]
          : []),
      ];
    },
  );
  if (keep) {
    if (ownDatabase !== null) {
      report.done.push(
        `kept database ${ownDatabase}; inspect it with`,
        `  DATABASE_URL=${config.DATABASE_URL} npm run reconcile`,
        `  psql ${config.DATABASE_URL} -c 'SELECT * FROM milestones'`,
        `  and drop it with: psql ${serverUrl} -c 'DROP DATABASE ${ownDatabase}'`,
      );
    }
    if (environment.ownPrefix) {
      report.done.push(`kept the topics and schema subjects under "${config.TOPIC_PREFIX}"`);
    }
    return report;
  }
  if (environment.ownPrefix) {
    await attempt(
      'deleting the schema subjects of the demo',
      `delete the subjects starting with "${config.TOPIC_PREFIX}" from ${config.SCHEMA_REGISTRY_URL}`,
      async () => [`deleted ${await deleteOwnSubjects(environment)} schema subjects`],
    );
  }
  if (ownDatabase !== null) {
    await attempt(
      `dropping database ${ownDatabase}`,
      `drop it with: psql ${serverUrl} -c 'DROP DATABASE ${ownDatabase}'`,
      async () => ((await dropOwnDatabase(environment)) ? [`dropped database ${ownDatabase}`] : []),
    );
  }
  return report;
}
