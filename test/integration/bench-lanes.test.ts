/**
 * The bench's lane watch against a real broker: a group of two consumers that
 * KafkaJS's round robin assigns is caught splitting lanes, and the same group
 * under the worker's EscrowLanes assigner is found whole, through the
 * assignment the broker describes and KafkaJS's own encoding of it.
 */
import { type Admin, type Consumer, Kafka, logLevel, PartitionAssigners } from 'kafkajs';
import { inboundTopics } from '../../src/codec/schemas';
import { LaneWatch } from '../../src/bench/lane-watch';
import { laneAssigner } from '../../src/kafka/lane-assigner';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const partitions = 3;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  kafka = new Kafka({ brokers: ctx.config.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: inboundTopics.map((topic) => ({
      topic: `${ctx.config.TOPIC_PREFIX}${topic}`,
      numPartitions: partitions,
    })),
    waitForLeaders: true,
  });
});

afterAll(async () => {
  await admin.disconnect();
});

/** Two members of `groupId` under `assigner`, until the group is Stable with both; then the watch's report. */
async function watchTwoMembers(
  groupId: string,
  assigner: typeof laneAssigner,
): Promise<Awaited<ReturnType<LaneWatch['stop']>>> {
  const consumers: Consumer[] = [];
  try {
    for (let member = 0; member < 2; member++) {
      const consumer = kafka.consumer({ groupId, partitionAssigners: [assigner] });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({
        topics: inboundTopics.map((topic) => `${ctx.config.TOPIC_PREFIX}${topic}`),
      });
      await consumer.run({ eachMessage: () => Promise.resolve() });
    }
    for (const deadline = Date.now() + 45_000; ;) {
      const [group] = (await admin.describeGroups([groupId])).groups;
      if (group?.state === 'Stable' && group.members.length === 2) break;
      if (Date.now() > deadline) throw new Error(`group ${groupId} did not settle with 2 members`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return await new LaneWatch(admin, groupId, ctx.config.TOPIC_PREFIX).stop();
  } finally {
    for (const consumer of consumers) await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

test('round robin over topic-partitions splits lanes, and the watch names them', async () => {
  const report = await watchTwoMembers(
    `${ctx.config.TOPIC_PREFIX}round-robin`,
    PartitionAssigners.roundRobin,
  );
  expect(report).toMatchObject({ disjoint: false, members: 2, checks: 1 });
  expect(report.assigner).toBe('RoundRobinAssigner');
  expect(
    report.violations.some((violation) => /^lane \d is split between 2 members/.test(violation)),
  ).toBe(true);
});

test('EscrowLanes gives each member whole lanes', async () => {
  const report = await watchTwoMembers(`${ctx.config.TOPIC_PREFIX}lanes`, laneAssigner);
  expect(report).toMatchObject({ disjoint: true, members: 2, checks: 1, violations: [] });
  expect(report.assigner).toBe('EscrowLanes');
  const held = Object.values(report.final);
  expect(held).toHaveLength(2);
  expect(held.flat().sort()).toEqual([0, 1, 2]);
});
