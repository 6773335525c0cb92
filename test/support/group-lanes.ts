/**
 * A consumer group as the broker sees it, for the lanes' tests: its state,
 * the assignor its members agreed on, each member's assignment decoded (and
 * checked to be whole lanes), and how many messages of some topics it has
 * not committed yet. Everything here asks the group coordinator; nothing
 * reads the worker's own state.
 */
import { type Admin, AssignerProtocol } from 'kafkajs';
import { waitUntil } from './wait';

/** Topic → the partitions a member holds. */
export type MemberTopics = Readonly<Record<string, readonly number[]>>;

export interface GroupAssignment {
  readonly state: string;
  /** The partition assignor the coordinator chose among those every member offered. */
  readonly protocol: string;
  readonly members: ReadonlyMap<string, MemberTopics>;
}

export async function describeAssignment(admin: Admin, groupId: string): Promise<GroupAssignment> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  if (!group) throw new Error(`the coordinator does not describe group ${groupId}`);
  return {
    state: group.state,
    protocol: group.protocol,
    members: new Map(
      group.members.map((member) => [
        member.memberId,
        // Empty while the group rebalances: no assignment is stored for the member then.
        AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {},
      ]),
    ),
  };
}

/** Waits until the group is Stable with exactly `memberCount` members, and returns its assignment. */
export async function stableAssignment(
  admin: Admin,
  groupId: string,
  memberCount: number,
  timeoutMs: number,
): Promise<GroupAssignment> {
  let last: GroupAssignment | undefined;
  try {
    await waitUntil(
      async () => {
        last = await describeAssignment(admin, groupId);
        return last.state === 'Stable' && last.members.size === memberCount;
      },
      timeoutMs,
      `group ${groupId} Stable with ${memberCount} member(s)`,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last seen ${last?.state} with ${last?.members.size} member(s)`,
      { cause: error },
    );
  }
  return last!;
}

/** Messages of `topics` the group has not committed (a partition without a commit counts from its start). */
export async function uncommittedMessages(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  let total = 0;
  for (const topic of topics) {
    const partitions = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
    for (const end of await admin.fetchTopicOffsets(topic)) {
      const offset = Number(partitions.find((entry) => entry.partition === end.partition)?.offset);
      const from = Number.isFinite(offset) && offset >= 0 ? offset : Number(end.low);
      total += Math.max(0, Number(end.high) - from);
    }
  }
  return total;
}

/** Waits until the group has committed every message of `topics`: everything sent was applied. */
export async function waitUntilCommitted(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await waitUntil(
    async () => (await uncommittedMessages(admin, groupId, topics)) === 0,
    timeoutMs,
    `group ${groupId} committing every message of ${topics.length} topic(s)`,
  );
}

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

/**
 * Checks the group's assignment is whole lanes: EscrowLanes chosen, every
 * inbound topic-partition held by exactly one member (and nothing else
 * held), partition i of every inbound topic on one member, and the members'
 * lane counts at most one apart. Returns each lane's member.
 */
export function expectWholeLanes(
  group: GroupAssignment,
  inbound: readonly string[],
  partitions: number,
): Map<number, string> {
  // The wire name: members of another version agree on lanes only under this name.
  expect(group.protocol).toBe('EscrowLanes');
  const holders = new Map<string, string[]>();
  for (const [memberId, topics] of group.members)
    for (const [topic, held] of Object.entries(topics))
      for (const partition of held) {
        const key = `${topic}/${partition}`;
        holders.set(key, [...(holders.get(key) ?? []), memberId]);
      }
  const everyPartition = inbound.flatMap((topic) =>
    range(partitions).map((partition) => `${topic}/${partition}`),
  );
  expect([...holders.keys()].sort()).toEqual(everyPartition.sort());
  expect([...holders].filter(([, members]) => members.length !== 1)).toEqual([]);
  const laneHolders = range(partitions).map((lane) => [
    ...new Set(inbound.flatMap((topic) => holders.get(`${topic}/${lane}`) ?? [])),
  ]);
  const splitLanes = laneHolders
    .map((members, lane) => ({ lane, members }))
    .filter(({ members }) => members.length !== 1);
  expect(splitLanes).toEqual([]);
  const lanesPerMember = [...group.members.keys()].map(
    (memberId) => laneHolders.filter(([holder]) => holder === memberId).length,
  );
  expect(Math.max(...lanesPerMember) - Math.min(...lanesPerMember)).toBeLessThanOrEqual(1);
  return new Map(laneHolders.map(([holder], lane) => [lane, holder!]));
}
