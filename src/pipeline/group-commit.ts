/**
 * Group commit: the slices that partitions consumed at once hand over in the
 * same turn of the event loop are applied together, in one transaction,
 * while together they hold at most `limit` events.
 *
 * Why: at a steady rate a fetch brings a few messages for each of several
 * partitions. Applied one slice per transaction, each costs the batch path's
 * fixed round trips and a commit, and the slices queue for the database and
 * for each other; applied as one, the whole fetch costs one transaction.
 * Flooded, slices are full (`limit` events each) and each still goes alone,
 * so the partitions' transactions keep overlapping the worker's JavaScript.
 *
 * What stays true: each slice's events keep their offset order (a group is
 * the slices one after the other), each caller gets exactly its own slice's
 * results, and nothing is resolved before the group's commit. A group of
 * several slices that fails is not retried as a whole: each of its slices is
 * applied again alone, so one slice's bad event never holds up another
 * partition, and each caller falls back or redelivers exactly as it would
 * have without grouping.
 */

export type ApplyGroup<Item, Result> = (
  items: readonly Item[],
  /** Keeps every member's consumer session alive during a long retry. */
  heartbeat: () => void,
) => Promise<Result[]>;

interface Member<Item, Result> {
  readonly items: readonly Item[];
  readonly heartbeat: () => void;
  readonly resolve: (results: Result[]) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<Item, Result> {
  private open: Member<Item, Result>[] = [];
  private openSize = 0;

  constructor(
    private readonly limit: number,
    private readonly apply: ApplyGroup<Item, Result>,
  ) {}

  /** Applies `items` with whatever else arrives in this turn; resolves with their results, in order. */
  submit(items: readonly Item[], heartbeat: () => void): Promise<Result[]> {
    return new Promise<Result[]>((resolve, reject) => {
      if (this.open.length > 0 && this.openSize + items.length > this.limit) this.flush();
      if (this.open.length === 0) setImmediate(() => this.flush());
      this.open.push({ items, heartbeat, resolve, reject });
      this.openSize += items.length;
    });
  }

  private flush(): void {
    const members = this.open;
    if (members.length === 0) return;
    this.open = [];
    this.openSize = 0;
    void this.run(members);
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
      // Each slice again on its own, concurrently: its own error (or success) is its answer.
      await Promise.all(members.map((member) => this.run([member])));
      return;
    }
    let start = 0;
    for (const member of members) {
      member.resolve(results.slice(start, start + member.items.length));
      start += member.items.length;
    }
  }
}
