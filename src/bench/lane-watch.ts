/**
 * Watches the worker group's assignment during a run: every 2 s, and once
 * more at the end before the workers stop, the group as the broker describes
 * it (admin.describeGroups), each member's assignment decoded as KafkaJS
 * encodes it (AssignerProtocol.MemberAssignment), checked by lane-check.ts.
 * Only an assignment the group is Stable with counts: while it rebalances,
 * members hold what the last generation gave them, which may overlap.
 */
import { type Admin, AssignerProtocol, type GroupDescription } from 'kafkajs';
import { inboundTopics } from '../codec/schemas';
import {
  type GroupAssignment,
  laneViolations,
  lanesByMember,
  type TopicPartitions,
} from './lane-check';

export interface LaneReport {
  /** True when at least one Stable assignment was checked and none broke a lane. */
  readonly disjoint: boolean;
  /** Members of the group at the last Stable check. */
  readonly members: number;
  /** The assignment strategy the group agreed on (KafkaJS's `protocol`), at the last Stable check. */
  readonly assigner: string | null;
  /** Stable assignments checked. */
  readonly checks: number;
  /** Every distinct violation seen in a Stable assignment. */
  readonly violations: string[];
  /** The last Stable assignment: member id → the inbound partition numbers it holds. */
  readonly final: Record<string, number[]>;
}

const intervalMs = 2000;
/** At the end the group should be Stable already; a rebalance in flight gets this long to finish. */
const finalWaitMs = 10_000;

/** A member's assignment with the topic prefix removed, so violations name the contract's topics. */
function decodeAssignment(group: GroupDescription, topicPrefix: string): GroupAssignment {
  const assignment = new Map<string, Record<string, number[]>>();
  for (const member of group.members) {
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    const topics: Record<string, number[]> = {};
    for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
      const name = topic.startsWith(topicPrefix) ? topic.slice(topicPrefix.length) : topic;
      topics[name] = partitions;
    }
    assignment.set(member.memberId, topics);
  }
  return assignment;
}

export class LaneWatch {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  private busy = false;
  private inbound: TopicPartitions | undefined;
  private checks = 0;
  private readonly violations = new Set<string>();
  private last: { members: number; assigner: string; final: Record<string, number[]> } | null =
    null;

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly topicPrefix: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return; // a slow answer skips a tick rather than piling up requests
      this.busy = true;
      // A look that failed (the broker busy) says nothing; the next one still does.
      this.inFlight = this.check()
        .catch(() => false)
        .finally(() => (this.busy = false));
    }, intervalMs);
  }

  /** Stops the periodic checks without a final one (the run failed). */
  async cancel(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  /** Stops the periodic checks, checks once more (waiting for a Stable group), and reports. */
  async stop(): Promise<LaneReport> {
    await this.cancel();
    const deadline = Date.now() + finalWaitMs;
    while (!(await this.check().catch(() => false)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return {
      disjoint: this.checks > 0 && this.violations.size === 0,
      members: this.last?.members ?? 0,
      assigner: this.last?.assigner ?? null,
      checks: this.checks,
      violations: [...this.violations],
      final: this.last?.final ?? {},
    };
  }

  /** One look at the group; true when it was Stable and so checked. */
  private async check(): Promise<boolean> {
    const [group] = (await this.admin.describeGroups([this.groupId])).groups;
    if (group?.state !== 'Stable') return false;
    const inbound = this.inbound ?? (this.inbound = await this.inboundPartitions());
    const assignment = decodeAssignment(group, this.topicPrefix);
    for (const violation of laneViolations(assignment, inbound)) this.violations.add(violation);
    this.checks += 1;
    this.last = {
      members: group.members.length,
      assigner: group.protocol,
      final: lanesByMember(assignment, inbound),
    };
    return true;
  }

  /** The inbound topics' partitions (fixed for a run: the bench never adds any). */
  private async inboundPartitions(): Promise<TopicPartitions> {
    const { topics } = await this.admin.fetchTopicMetadata({
      topics: inboundTopics.map((topic) => `${this.topicPrefix}${topic}`),
    });
    return new Map(
      topics.map(({ name, partitions }) => [
        name.slice(this.topicPrefix.length),
        partitions.map((partition) => partition.partitionId),
      ]),
    );
  }
}
