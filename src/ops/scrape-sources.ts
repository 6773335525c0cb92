/**
 * Where the scrape-time gauges read from: the consumer group's committed
 * offsets against each inbound partition's high watermark (Kafka admin), and
 * the outbox's unpublished rows (Postgres, on the partial index
 * outbox_unpublished, so the count costs the backlog's size, not the table's).
 */
import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import type { ScrapeSources } from './metrics';

export function scrapeSources(options: {
  admin: Admin;
  db: Knex;
  consumerGroup: string;
  topicPrefix: string;
  inboundTopics: readonly string[];
  relayActive: () => boolean;
}): ScrapeSources {
  const { admin, db, consumerGroup, topicPrefix } = options;
  return {
    async consumerLag() {
      await admin.connect();
      const rows: { topic: string; partition: number; lag: number }[] = [];
      const committed = await admin.fetchOffsets({
        groupId: consumerGroup,
        topics: options.inboundTopics.map((topic) => `${topicPrefix}${topic}`),
      });
      for (const topicOffsets of committed) {
        const watermarks = await admin.fetchTopicOffsets(topicOffsets.topic);
        for (const { partition, high, low } of watermarks) {
          const at = topicOffsets.partitions.find((p) => p.partition === partition)?.offset;
          // -1: the group has committed nothing there yet, so everything retained is lag.
          // -2 is what a reset to the earliest offset leaves (kafkajs resetOffsets) on a
          // partition the group has not consumed since: also "from the start".
          const from = at === undefined || BigInt(at) < 0n ? BigInt(low) : BigInt(at);
          const lag = BigInt(high) - from;
          rows.push({
            topic: topicOffsets.topic.slice(topicPrefix.length),
            partition,
            lag: Number(lag > 0n ? lag : 0n),
          });
        }
      }
      return rows;
    },
    async outboxBacklog() {
      const row = await db('outbox')
        .whereNull('published_at')
        .first<{ rows: string; age: string | null }>(
          db.raw('count(*) AS rows'),
          db.raw('extract(epoch FROM now() - min(created_at)) AS age'),
        );
      return { rows: Number(row?.rows ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) };
    },
    relayActive: () => (options.relayActive() ? 1 : 0),
  };
}
