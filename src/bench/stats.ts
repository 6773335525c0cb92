/**
 * From what was produced and what was published to the figures: end-to-end
 * latency per inbound event (its produce time to the publish time of its
 * last outcome), percentiles by nearest rank, and sustained throughput over
 * the whole run (first event produced to last outcome published). Retried
 * callbacks have no outcome of their own and do not count toward latency;
 * any other event without an outcome is counted, since it is a lost result.
 */

export interface LatencySummary {
  /** Events with an outcome, i.e. latency samples. */
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The nearest-rank percentile of ascending values: the smallest value with p% at or below it. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarizeLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const total = latencies.reduce((sum, value) => sum + value, 0);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    meanMs: sorted.length === 0 ? Number.NaN : total / sorted.length,
  };
}

export interface RunFigures {
  readonly latency: LatencySummary;
  readonly eventsPerSecond: number;
  /** First event produced to last outcome published. */
  readonly durationMs: number;
  /** Events other than retried callbacks that got no outcome (should be none). */
  readonly withoutOutcome: readonly string[];
}

export function runFigures(input: {
  /** eventId → produce time, for every event sent. */
  sentAt: ReadonlyMap<string, number>;
  /** eventId → publish time of its last outcome. */
  publishedAt: ReadonlyMap<string, number>;
  /** eventIds that are retried callbacks (no outcome expected). */
  duplicates: ReadonlySet<string>;
  firstSentAt: number;
  lastPublishedAt: number;
}): RunFigures {
  const latencies: number[] = [];
  const withoutOutcome: string[] = [];
  for (const [eventId, sent] of input.sentAt) {
    if (input.duplicates.has(eventId)) continue;
    const published = input.publishedAt.get(eventId);
    if (published === undefined) withoutOutcome.push(eventId);
    // Both clocks are this machine's; a message stamped a millisecond early is still 0 ms.
    else latencies.push(Math.max(0, published - sent));
  }
  const durationMs = Math.max(1, input.lastPublishedAt - input.firstSentAt);
  return {
    latency: summarizeLatencies(latencies),
    eventsPerSecond: input.sentAt.size / (durationMs / 1000),
    durationMs,
    withoutOutcome,
  };
}
