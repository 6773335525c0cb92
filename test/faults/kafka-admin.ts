/**
 * What the suite asks of Kafka besides producing: the run's topics (under a
 * prefix of its own, so it never touches another deployment's), the broker's
 * message size limit, the consumer group's lag, rewinding the group to the
 * start of every inbound topic, and removing it all at the end.
 */
import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import { sleep } from '../../infra/services/shell';

export class FaultKafka {
  private constructor(
    readonly admin: Admin,
    private readonly prefix: string,
    private readonly groupId: string,
  ) {}

  static async connect(kafka: Kafka, prefix: string, groupId: string): Promise<FaultKafka> {
    const admin = kafka.admin();
    await admin.connect();
    return new FaultKafka(admin, prefix, groupId);
  }

  topic(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Every topic the worker uses, with 3 partitions as the worker would create them. */
  async createTopics(): Promise<void> {
    await this.admin.createTopics({
      topics: [...inboundTopics, ...outboundTopics].map((name) => ({
        topic: this.topic(name),
        numPartitions: 3,
      })),
      waitForLeaders: true,
    });
  }

  /** The largest value the broker takes on an inbound topic (max.message.bytes). */
  async maxMessageBytes(): Promise<number> {
    const name = this.topic('escrow.payment-confirmed.v1');
    const described = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] }],
    });
    const value = described.resources[0]?.configEntries[0]?.configValue;
    if (value === undefined || !/^\d+$/.test(value)) {
      throw new Error(`The broker did not say max.message.bytes of ${name} (got ${String(value)})`);
    }
    return Number(value);
  }

  /** Messages in the inbound topics that the group has not committed yet, per topic-partition. */
  async lag(): Promise<{ total: number; byPartition: Record<string, number> }> {
    const byPartition: Record<string, number> = {};
    let total = 0;
    const committed = await this.admin.fetchOffsets({
      groupId: this.groupId,
      topics: inboundTopics.map((name) => this.topic(name)),
    });
    for (const { topic, partitions } of committed) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const done = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        // -1: nothing committed yet, so the whole partition from its start is lag. -2 is
        // what rewindToEarliest leaves on a partition no message arrived on since (the
        // settlements topic, which this workload does not use): also "from the start".
        const from = Number(done) < 0 ? Number(end.low) : Number(done);
        const behind = Math.max(0, Number(end.high) - from);
        byPartition[`${topic.slice(this.prefix.length)}/${end.partition}`] = behind;
        total += behind;
      }
    }
    return { total, byPartition };
  }

  /** The group's members; resetting offsets needs none (KafkaJS refuses otherwise). */
  async waitForEmptyGroup(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { groups } = await this.admin.describeGroups([this.groupId]);
      const group = groups[0];
      if (!group || group.members.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `consumer group ${this.groupId} still has ${group.members.length} member(s) ` +
            `(${group.state}) ${timeoutMs / 1000} s after every worker stopped; offsets cannot be rewound`,
        );
      }
      await sleep(500);
    }
  }

  /** Every inbound topic back to its first offset: the whole stream is delivered again. */
  async rewindToEarliest(): Promise<void> {
    for (const name of inboundTopics) {
      await this.admin.resetOffsets({
        groupId: this.groupId,
        topic: this.topic(name),
        earliest: true,
      });
    }
  }

  async deleteEverything(): Promise<void> {
    const topics = (await this.admin.listTopics()).filter((name) => name.startsWith(this.prefix));
    if (topics.length > 0) await this.admin.deleteTopics({ topics });
    // A worker killed just before (an interrupted run) stays a member until its session
    // times out, and a group with members cannot be deleted.
    await this.waitForEmptyGroup(15_000).catch(() => undefined);
    const { groups } = await this.admin.listGroups();
    const ours = groups.map((group) => group.groupId).filter((id) => id.startsWith(this.prefix));
    if (ours.length > 0) await this.admin.deleteGroups(ours).catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
  }
}
