/**
 * The lane assignment alone (pure): whole lanes to members, balanced and
 * deterministic, every topic-partition to exactly one subscriber; and the
 * KafkaJS assigner's wire round trip. Through a real group: lanes-kafka.test.ts.
 */
import { AssignerProtocol, type Cluster } from 'kafkajs';
import {
  assignLanes,
  LANE_ASSIGNER_NAME,
  laneAssigner,
  type LaneAssignment,
} from '../../../src/kafka/lane-assigner';
import { checkEqualPartitions, LanePartitionsError } from '../../../src/kafka/topics';

const inbound = ['payments', 'reached', 'disputes', 'orders', 'settlements'];
const partitions = (count: number) => Array.from({ length: count }, (_, index) => index);
const evenly = (count: number, topics = inbound) =>
  new Map(topics.map((topic) => [topic, partitions(count)]));
const member = (memberId: string, topics = inbound) => ({ memberId, topics });

/** partition number → the members holding any topic's partition of that number. */
function ownersByLane(assignment: LaneAssignment): Map<number, Set<string>> {
  const owners = new Map<number, Set<string>>();
  for (const [memberId, topics] of assignment)
    for (const lanes of Object.values(topics))
      for (const lane of lanes) {
        if (!owners.has(lane)) owners.set(lane, new Set());
        owners.get(lane)!.add(memberId);
      }
  return owners;
}

/** Every (topic, partition) → how many members hold it. */
function holders(assignment: LaneAssignment): Map<string, number> {
  const count = new Map<string, number>();
  for (const topics of assignment.values())
    for (const [topic, lanes] of Object.entries(topics))
      for (const lane of lanes)
        count.set(`${topic}/${lane}`, (count.get(`${topic}/${lane}`) ?? 0) + 1);
  return count;
}

test.each([
  [1, 3],
  [2, 3],
  [3, 3],
  [2, 12],
  [5, 12],
  [4, 3],
])(
  '%i members, %i partitions per topic: whole lanes, each to one member, balanced',
  (members, count) => {
    const assignment = assignLanes(
      partitions(members).map((index) => member(`m-${index}`)),
      evenly(count),
    );
    const owners = ownersByLane(assignment);
    expect([...owners.keys()].sort((a, b) => a - b)).toEqual(partitions(count));
    for (const memberIds of owners.values()) expect(memberIds.size).toBe(1);
    const perTopicPartition = holders(assignment);
    expect(perTopicPartition.size).toBe(inbound.length * count);
    expect(new Set(perTopicPartition.values())).toEqual(new Set([1]));
    for (const topics of assignment.values())
      expect(Object.keys(topics).sort()).toEqual([...inbound].sort());
    const lanesPerMember = [...assignment.values()].map(
      (topics) => Object.values(topics)[0]!.length,
    );
    expect(Math.max(...lanesPerMember) - Math.min(...lanesPerMember)).toBeLessThanOrEqual(1);
    expect(assignment.size).toBe(Math.min(members, count));
  },
);

test('the same members in another order get the same lanes', () => {
  const a = assignLanes([member('b'), member('a'), member('c')], evenly(7));
  const b = assignLanes([member('c'), member('a'), member('b')], evenly(7));
  expect(b).toEqual(a);
  expect(a.get('a')!.payments).toEqual([0, 3, 6]);
  expect(a.get('b')!.payments).toEqual([1, 4]);
  expect(a.get('c')!.payments).toEqual([2, 5]);
});

test('unequal counts (a topic grown while running): each partition number still goes to one member', () => {
  const counts = new Map([
    ['payments', partitions(6)],
    ['orders', partitions(3)],
  ]);
  const assignment = assignLanes(
    [member('a', ['payments', 'orders']), member('b', ['payments', 'orders'])],
    counts,
  );
  for (const memberIds of ownersByLane(assignment).values()) expect(memberIds.size).toBe(1);
  expect(holders(assignment).size).toBe(9);
});

test('members with different subscriptions (an upgrade): lanes whole where some member has every topic, else each partition to a subscriber', () => {
  const old = member('old', ['payments', 'orders']);
  const upgraded = member('new', ['payments', 'orders', 'settlements']);
  const assignment = assignLanes([old, upgraded], evenly(2, ['payments', 'orders', 'settlements']));
  expect(assignment.get('new')).toEqual({ payments: [0, 1], orders: [0, 1], settlements: [0, 1] });
  expect(assignment.get('old')).toBeUndefined();

  const onlyOld = assignLanes(
    [member('x', ['payments']), member('y', ['orders'])],
    evenly(2, ['payments', 'orders']),
  );
  expect(onlyOld.get('x')).toEqual({ payments: [0, 1] });
  expect(onlyOld.get('y')).toEqual({ orders: [0, 1] });
});

test('through the KafkaJS assigner interface: every member answered, the protocol named, metadata round-trips', async () => {
  const cluster = {
    findTopicPartitionMetadata: () => partitions(4).map((partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const assigner = laneAssigner({ cluster, groupId: 'g', logger: undefined as never });
  expect(assigner.name).toBe(LANE_ASSIGNER_NAME);
  const { metadata } = assigner.protocol({ topics: ['payments', 'orders'] });
  const members = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'].map((memberId) => ({
    memberId,
    memberMetadata: metadata,
  }));
  const answers = await assigner.assign({ members, topics: ['payments', 'orders'] });
  expect(answers.map((answer) => answer.memberId)).toEqual(members.map((m) => m.memberId));
  const decoded = answers.map(
    (answer) => AssignerProtocol.MemberAssignment.decode(answer.memberAssignment)!.assignment,
  );
  expect(decoded).toEqual([
    { payments: [0], orders: [0] },
    { payments: [1], orders: [1] },
    { payments: [2], orders: [2] },
    { payments: [3], orders: [3] },
    {},
  ]);
});

test('unequal inbound partition counts are refused, naming each topic, its count and the fix', () => {
  expect(() =>
    checkEqualPartitions(
      new Map([
        ['a', 3],
        ['b', 3],
      ]),
    ),
  ).not.toThrow();
  expect(() => checkEqualPartitions(new Map())).not.toThrow();
  let refusal: unknown;
  try {
    checkEqualPartitions(
      new Map([
        ['escrow.payment-confirmed.v1', 3],
        ['escrow.settlements.v1', 6],
        ['escrow.orders.v1', 3],
      ]),
    );
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(LanePartitionsError);
  const error = refusal as LanePartitionsError;
  expect(error.code).toBe('INBOUND_PARTITIONS_DIFFER');
  expect(error.retryable).toBe(false);
  expect(error.message).toContain(
    'escrow.payment-confirmed.v1 has 3, escrow.settlements.v1 has 6, escrow.orders.v1 has 3',
  );
  expect(error.message).toContain(
    'Give escrow.payment-confirmed.v1, escrow.orders.v1 6 partitions',
  );
  expect(error.message).toContain('--partitions 6');
});
