/**
 * Lanes: the consumer group's assignment that keeps one order's events in one
 * member. Every inbound topic is keyed by `orderId` with the same partitioner
 * (KafkaJS's default, murmur2 as in the Java client), so partition i of every
 * inbound topic holds the same orders. A lane is partition number i of all of
 * them together; this assigner gives each member whole lanes, so two members
 * never hold events of the same order, and inside a member the lane applies
 * them one transaction at a time (src/pipeline/lanes.ts): no two transactions
 * of the worker wait on each other's order locks.
 *
 * Correctness never depends on it: a producer with another partitioner puts
 * an order's events in different lanes, and the orders' locks and version
 * guards serialize them as before; only the speed suffers.
 *
 * It is listed before KafkaJS's round robin, so a group whose members do not
 * all know it (a rolling upgrade from a version without it) agrees on round
 * robin until every member does.
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const LANE_ASSIGNER_NAME = 'EscrowLanes';

export interface LaneMember {
  readonly memberId: string;
  /** The topics the member subscribed to. */
  readonly topics: readonly string[];
}

/** Topic → its partitions, per member; only members given something appear. */
export type LaneAssignment = Map<string, Record<string, number[]>>;

/**
 * Whole lanes to members, deterministically: lanes in partition order, each
 * to the member with the fewest lanes so far (ties to the first member id in
 * code-point order) among those subscribed to every topic that has that
 * partition. A topic-partition that no such member can take (members with
 * different subscriptions, during an upgrade) goes to its least-loaded
 * subscriber alone. Every topic-partition goes to exactly one subscriber.
 */
export function assignLanes(
  members: readonly LaneMember[],
  partitionsByTopic: ReadonlyMap<string, readonly number[]>,
): LaneAssignment {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const load = new Map(sorted.map((member) => [member.memberId, 0]));
  const subscribed = new Map(sorted.map((member) => [member.memberId, new Set(member.topics)]));
  const assignment: LaneAssignment = new Map();
  const give = (memberId: string, topic: string, partition: number) => {
    let topics = assignment.get(memberId);
    if (!topics) assignment.set(memberId, (topics = {}));
    (topics[topic] ??= []).push(partition);
  };
  const leastLoaded = (candidates: readonly LaneMember[]) =>
    candidates.reduce((best, member) =>
      load.get(member.memberId)! < load.get(best.memberId)! ? member : best,
    );

  const topicsByLane = new Map<number, string[]>();
  for (const [topic, partitions] of partitionsByTopic) {
    for (const partition of partitions) {
      let topics = topicsByLane.get(partition);
      if (!topics) topicsByLane.set(partition, (topics = []));
      topics.push(topic);
    }
  }
  for (const lane of [...topicsByLane.keys()].sort((a, b) => a - b)) {
    const topics = topicsByLane.get(lane)!.sort();
    const whole = sorted.filter((member) =>
      topics.every((topic) => subscribed.get(member.memberId)!.has(topic)),
    );
    if (whole.length > 0) {
      const owner = leastLoaded(whole);
      for (const topic of topics) give(owner.memberId, topic, lane);
      load.set(owner.memberId, load.get(owner.memberId)! + 1);
      continue;
    }
    for (const topic of topics) {
      const subscribers = sorted.filter((member) => subscribed.get(member.memberId)!.has(topic));
      if (subscribers.length === 0) continue; // nobody asked for it
      const owner = leastLoaded(subscribers);
      give(owner.memberId, topic, lane);
      load.set(owner.memberId, load.get(owner.memberId)! + 1);
    }
  }
  return assignment;
}

/** The KafkaJS assigner around assignLanes (the group leader runs it at each rebalance). */
export const laneAssigner: PartitionAssigner = ({ cluster }) => ({
  name: LANE_ASSIGNER_NAME,
  version: 0,
  assign({ members, topics }) {
    const laneMembers = members.map(({ memberId, memberMetadata }) => ({
      memberId,
      topics: AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? [],
    }));
    const partitionsByTopic = new Map(
      topics.map((topic) => [
        topic,
        cluster.findTopicPartitionMetadata(topic).map((metadata) => metadata.partitionId),
      ]),
    );
    const assignment = assignLanes(laneMembers, partitionsByTopic);
    // Every member gets an answer, an empty assignment included (more members than lanes).
    return Promise.resolve(
      members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: assignment.get(memberId) ?? {},
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: LANE_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
