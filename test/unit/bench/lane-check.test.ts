/** The bench's lane check: every inbound topic-partition on one member, each partition number whole. */
import {
  type GroupAssignment,
  laneViolations,
  lanesByMember,
  type TopicPartitions,
} from '../../../src/bench/lane-check';

const orders = 'escrow.orders.v1';
const payments = 'escrow.payment-confirmed.v1';
const settlements = 'escrow.settlements.v1';

/** Three inbound topics of three partitions each: lanes 0, 1 and 2. */
const inbound: TopicPartitions = new Map([
  [orders, [0, 1, 2]],
  [payments, [0, 1, 2]],
  [settlements, [0, 1, 2]],
]);

const group = (members: Record<string, Record<string, number[]>>): GroupAssignment =>
  new Map(Object.entries(members));

test('whole lanes, one member each: no violation', () => {
  const assignment = group({
    a: { [orders]: [0, 2], [payments]: [0, 2], [settlements]: [0, 2] },
    b: { [orders]: [1], [payments]: [1], [settlements]: [1] },
  });
  expect(laneViolations(assignment, inbound)).toEqual([]);
  expect(lanesByMember(assignment, inbound)).toEqual({ a: [0, 2], b: [1] });
});

test('one member holding everything keeps every lane whole', () => {
  const assignment = group({
    a: { [orders]: [0, 1, 2], [payments]: [2, 1, 0], [settlements]: [0, 1, 2] },
  });
  expect(laneViolations(assignment, inbound)).toEqual([]);
  expect(lanesByMember(assignment, inbound)).toEqual({ a: [0, 1, 2] });
});

test('round robin over topic-partitions splits lanes between members', () => {
  // KafkaJS's round robin deals topic-partitions in turn: lane 0 goes to a, b, a.
  const assignment = group({
    a: { [orders]: [0, 2], [payments]: [1], [settlements]: [0, 2] },
    b: { [orders]: [1], [payments]: [0, 2], [settlements]: [1] },
  });
  expect(laneViolations(assignment, inbound)).toEqual([
    `lane 0 is split between 2 members: a holds ${orders}, ${settlements}; b holds ${payments}`,
    `lane 1 is split between 2 members: b holds ${orders}, ${settlements}; a holds ${payments}`,
    `lane 2 is split between 2 members: a holds ${orders}, ${settlements}; b holds ${payments}`,
  ]);
  expect(lanesByMember(assignment, inbound)).toEqual({ a: [0, 1, 2], b: [0, 1, 2] });
});

test('a topic-partition held by no member, or by two, is named', () => {
  const assignment = group({
    a: { [orders]: [0, 1, 2], [payments]: [0, 1, 2], [settlements]: [0, 1] },
    b: { [orders]: [1] },
  });
  expect(laneViolations(assignment, inbound)).toEqual([
    `${orders} partition 1 is held by 2 members: a, b`,
    `${settlements} partition 2 is held by no member`,
    `lane 1 is split between 2 members: a holds ${orders}, ${payments}, ${settlements}; b holds ${orders}`,
  ]);
});

test('an empty group holds nothing: every topic-partition is named', () => {
  expect(laneViolations(group({}), inbound)).toHaveLength(9);
  expect(lanesByMember(group({}), inbound)).toEqual({});
});

test('topics that are not inbound are left out of the lanes', () => {
  const assignment = group({
    a: {
      [orders]: [0, 1, 2],
      [payments]: [0, 1, 2],
      [settlements]: [0, 1, 2],
      'escrow.events.v1': [0],
    },
    b: { 'escrow.events.v1': [1, 2] },
  });
  expect(laneViolations(assignment, inbound)).toEqual([]);
  expect(lanesByMember(assignment, inbound)).toEqual({ a: [0, 1, 2], b: [] });
});
