/**
 * Lanes: one per partition number, fed by partition i of every inbound topic
 * (the consumer group hands a member whole lanes, src/kafka/lane-assigner.ts).
 * Every inbound topic is keyed by `orderId`, so one lane holds all of its
 * orders' events and no other lane holds any of them: lanes run beside each
 * other without ever waiting on each other's order locks, and inside a lane
 * the work runs one transaction at a time.
 *
 * Group commit, per lane: the slices a lane's partitions hand over while it
 * is busy (or in the same turn of the event loop when it is idle) are applied
 * together, in one transaction, while together they hold at most `limit`
 * events. At a steady rate that makes a fetch of several topics one
 * transaction; flooded, each transaction is as large as the limit allows.
 *
 * Across lanes, when there is room: a lane starting a transaction also takes
 * the slices waiting in lanes whose drain has not started yet (idle lanes
 * handed work in the same turn), up to the same limit. Those lanes are lent
 * to that transaction: nothing more of theirs starts until it has ended, so
 * each lane still runs one piece of work at a time, in order. At a steady
 * rate, where every lane has a few events at a time, that makes one
 * transaction (one lock, one set of statements, one commit) of what would
 * have been one per lane; flooded, every lane is busy with its own full
 * transactions and nothing is lent. Disjoint lanes never share an order, so
 * a transaction of several lanes locks what theirs would have locked.
 *
 * What stays true: each slice's events keep their offset order (a group is
 * the slices one after the other, in the order they were handed over), each
 * caller gets exactly its own slice's results, and nothing is resolved before
 * the group's commit. A group of several slices that fails is not retried as
 * a whole: each of its slices is applied again alone, one after the other, so
 * one slice's bad event never holds up another partition, and each caller
 * falls back or redelivers exactly as it would have without grouping. Work
 * that must not overlap the lane's transactions (the one-event fallback of a
 * refused slice) goes through `exclusive`, in the same queue.
 */

export type ApplyGroup<Item, Result> = (
  items: readonly Item[],
  /** Keeps every member's consumer session alive during a long retry. */
  heartbeat: () => void,
) => Promise<Result[]>;

interface Member<Item, Result> {
  readonly kind: 'slice';
  readonly items: readonly Item[];
  readonly heartbeat: () => void;
  readonly resolve: (results: Result[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Exclusive {
  readonly kind: 'exclusive';
  readonly run: () => Promise<void>;
}

type Job<Item, Result> = Member<Item, Result> | Exclusive;

export class Lanes<Item, Result> {
  /** The queued work of each lane that has any. */
  private readonly queues = new Map<number, Job<Item, Result>[]>();
  /** Lanes whose own drain has started: nothing is borrowed from them. */
  private readonly draining = new Set<number>();
  /** Lanes lent to another lane's transaction, with its end: nothing more of theirs starts before it. */
  private readonly lent = new Map<number, Promise<void>>();

  constructor(
    private readonly limit: number,
    private readonly apply: ApplyGroup<Item, Result>,
  ) {}

  /** Lanes with work queued or running, in their own transaction or lent to another's (for tests and metrics). */
  get busy(): number {
    let lanes = this.queues.size;
    for (const lane of this.lent.keys()) if (!this.queues.has(lane)) lanes++;
    return lanes;
  }

  /** Applies `items` in `lane`, with whatever else the lane gathers meanwhile; resolves with their results, in order. */
  submit(lane: number, items: readonly Item[], heartbeat: () => void): Promise<Result[]> {
    return new Promise<Result[]>((resolve, reject) =>
      this.enqueue(lane, { kind: 'slice', items, heartbeat, resolve, reject }),
    );
  }

  /** Runs `work` in `lane` when the lane's earlier work is done, and nothing else of the lane beside it. */
  exclusive<T>(lane: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.enqueue(lane, { kind: 'exclusive', run: () => work().then(resolve, reject) }),
    );
  }

  private enqueue(lane: number, job: Job<Item, Result>): void {
    const queue = this.queues.get(lane);
    if (queue) {
      queue.push(job);
      return;
    }
    this.queues.set(lane, [job]);
    // Idle: wait for the rest of this turn, so slices handed over together go together.
    setImmediate(() => void this.drain(lane));
  }

  private async drain(lane: number): Promise<void> {
    const queue = this.queues.get(lane)!;
    this.draining.add(lane);
    while (queue.length > 0) {
      // Lent: what the lane had went into another lane's transaction; the rest waits for its end.
      const lentTo = this.lent.get(lane);
      if (lentTo) {
        await lentTo;
        continue;
      }
      const head = queue[0]!;
      if (head.kind === 'exclusive') {
        queue.shift();
        await head.run();
        continue;
      }
      const members: Member<Item, Result>[] = [];
      const borrowed = this.borrow(lane, members, this.take(queue, members, 0));
      const ended = this.run(members);
      for (const other of borrowed) this.lent.set(other, ended);
      try {
        await ended;
      } finally {
        for (const other of borrowed) this.lent.delete(other);
      }
    }
    this.queues.delete(lane);
    this.draining.delete(lane);
  }

  /** Moves the slices at the head of `queue` into `members` while the group stays within the limit; returns the group's size. */
  private take(queue: Job<Item, Result>[], members: Member<Item, Result>[], size: number): number {
    while (queue.length > 0) {
      const next = queue[0]!;
      if (next.kind !== 'slice') break;
      if (members.length > 0 && size + next.items.length > this.limit) break;
      members.push(next);
      size += next.items.length;
      queue.shift();
    }
    return size;
  }

  /**
   * Adds to a group the slices waiting in lanes whose drain has not started
   * and that are not lent already, while the group stays within the limit;
   * returns the lanes it took from.
   */
  private borrow(lane: number, members: Member<Item, Result>[], size: number): number[] {
    const borrowed: number[] = [];
    for (const [other, queue] of this.queues) {
      if (size >= this.limit) break;
      if (other === lane || this.draining.has(other) || this.lent.has(other)) continue;
      const before = members.length;
      size = this.take(queue, members, size);
      if (members.length > before) borrowed.push(other);
    }
    return borrowed;
  }

  private async run(members: readonly Member<Item, Result>[]): Promise<void> {
    if (members.length === 1) {
      const [member] = members as [Member<Item, Result>];
      await this.apply(member.items, member.heartbeat).then(member.resolve, member.reject);
      return;
    }
    let results: Result[];
    try {
      results = await this.apply(
        members.flatMap((member) => member.items),
        () => members.forEach((member) => member.heartbeat()),
      );
    } catch {
      // Each slice again on its own, in order: its own error (or success) is its answer.
      for (const member of members) await this.run([member]);
      return;
    }
    let start = 0;
    for (const member of members) {
      member.resolve(results.slice(start, start + member.items.length));
      start += member.items.length;
    }
  }
}
