/**
 * Does the consumer group hand out whole lanes? A lane is partition number i
 * of every inbound topic together (src/kafka/lane-assigner.ts): keyed by
 * orderId with one partitioner, they hold the same orders, so a member that
 * holds a whole lane holds all of those orders' events and no other member
 * holds any. Pure: an assignment in, the violations out, each a sentence.
 */

/** Topic → the partitions a member was given, per member id. */
export type GroupAssignment = ReadonlyMap<string, Readonly<Record<string, readonly number[]>>>;

/** Inbound topic → every partition it has. */
export type TopicPartitions = ReadonlyMap<string, readonly number[]>;

/** The members holding `partition` of `topic`, in the assignment's order. */
function holdersOf(assignment: GroupAssignment, topic: string, partition: number): string[] {
  return [...assignment]
    .filter(([, topics]) => topics[topic]?.includes(partition) ?? false)
    .map(([memberId]) => memberId);
}

/**
 * Violations of the two rules, each named: (a) every inbound topic-partition
 * is held by exactly one member; (b) for each partition number, the inbound
 * topics' partitions of that number are all held by one member. Topics of the
 * assignment that are not inbound are not the lanes' business.
 */
export function laneViolations(assignment: GroupAssignment, inbound: TopicPartitions): string[] {
  const violations: string[] = [];
  /** Partition number → member id → the topics whose partition of that number it holds. */
  const lanes = new Map<number, Map<string, string[]>>();
  for (const [topic, partitions] of inbound) {
    for (const partition of partitions) {
      const holders = holdersOf(assignment, topic, partition);
      if (holders.length === 0) {
        violations.push(`${topic} partition ${partition} is held by no member`);
      } else if (holders.length > 1) {
        violations.push(
          `${topic} partition ${partition} is held by ${holders.length} members: ${holders.join(', ')}`,
        );
      }
      let lane = lanes.get(partition);
      if (!lane) lanes.set(partition, (lane = new Map<string, string[]>()));
      for (const holder of holders) lane.set(holder, [...(lane.get(holder) ?? []), topic]);
    }
  }
  for (const [partition, holders] of [...lanes].sort(([a], [b]) => a - b)) {
    if (holders.size <= 1) continue;
    const parts = [...holders].map(
      ([memberId, topics]) => `${memberId} holds ${topics.join(', ')}`,
    );
    violations.push(
      `lane ${partition} is split between ${holders.size} members: ${parts.join('; ')}`,
    );
  }
  return violations;
}

/** Member id → the partition numbers (lanes, when whole) of inbound topics it holds, ascending. */
export function lanesByMember(
  assignment: GroupAssignment,
  inbound: TopicPartitions,
): Record<string, number[]> {
  const held: Record<string, number[]> = {};
  for (const [memberId, topics] of assignment) {
    const partitions = new Set<number>();
    for (const topic of inbound.keys())
      for (const partition of topics[topic] ?? []) partitions.add(partition);
    held[memberId] = [...partitions].sort((a, b) => a - b);
  }
  return held;
}
