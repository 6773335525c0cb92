/**
 * Age buckets shared by the checks that say how old money is (stuck_funds:
 * funds in escrow; receivables_outstanding: what providers still owe): the
 * standard boundaries plus the check's own threshold, the SQL that counts how
 * many boundaries an age has passed, and the labels ("< 1d", "7d–30d",
 * "≥ 180d"). Pure but for the SQL text it returns.
 */
import { amountsText, durationText } from '../text';

const day = 24 * 3_600_000;
const standardBoundaries = [day, 7 * day, 30 * day, 90 * day, 180 * day];

/** The standard boundaries with `thresholdMs` among them, ascending, each once. */
export function ageBoundaries(thresholdMs: number): number[] {
  return [...new Set([...standardBoundaries, thresholdMs])]
    .filter((ms) => ms > 0)
    .sort((a, b) => a - b);
}

/**
 * SQL for the bucket index of an age in ms (the number of boundaries it has
 * passed); its one binding is the boundaries as text.
 */
export const bucketIndexSql = (ageMs: string) =>
  `(SELECT count(*) FROM unnest(?::bigint[]) AS b(ms) WHERE b.ms <= ${ageMs})::int`;

/** Counts and amounts per currency gathered into buckets by their index. */
export class AgeTally {
  private readonly buckets = new Map<number, { count: number; amounts: Map<string, bigint> }>();

  add(index: number, currency: string, minor: bigint): void {
    const bucket = this.buckets.get(index) ?? { count: 0, amounts: new Map<string, bigint>() };
    bucket.count += 1;
    bucket.amounts.set(currency, (bucket.amounts.get(currency) ?? 0n) + minor);
    this.buckets.set(index, bucket);
  }

  /** Every bucket from "< first boundary" to "≥ last", empty ones included. */
  byAge(boundaries: readonly number[]) {
    return [0, ...boundaries].map((fromMs, index) => {
      const toMs = boundaries[index] ?? null;
      const label =
        index === 0
          ? `< ${durationText(toMs ?? 0)}`
          : toMs === null
            ? `≥ ${durationText(fromMs)}`
            : `${durationText(fromMs)}–${durationText(toMs)}`;
      const bucket = this.buckets.get(index);
      return {
        label,
        fromMs,
        toMs,
        count: bucket?.count ?? 0,
        amounts: bucket ? amountsText(bucket.amounts) : [],
      };
    });
  }
}
