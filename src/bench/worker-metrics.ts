/**
 * What the worker says about its own time, from its /metrics text: how long
 * a message takes from being handed to the worker to its database commit
 * (escrow_event_processing_seconds) and how long it waits for the order's
 * Redlock lock (escrow_lock_wait_seconds), summed over every label. The
 * percentiles are bucket bounds (Prometheus histograms keep no more).
 */

export interface HistogramSummary {
  readonly count: number;
  readonly meanMs: number;
  /** The upper bound of the bucket holding the median / 99th percentile. */
  readonly p50AtMostMs: number;
  readonly p99AtMostMs: number;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A histogram summed over its labels (other than le), or null when the worker has none. */
export function histogramSummary(text: string, name: string): HistogramSummary | null {
  const samples = parseSamples(text);
  const total = (suffix: string) =>
    samples.filter((s) => s.name === name + suffix).reduce((sum, s) => sum + s.value, 0);
  const count = total('_count');
  if (count === 0) return null;
  const buckets = new Map<number, number>();
  for (const sample of samples.filter((s) => s.name === `${name}_bucket`)) {
    const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const atMost = (p: number) => {
    const rank = (p / 100) * count;
    const bound = bounds.find((le) => (buckets.get(le) ?? 0) >= rank) ?? Number.POSITIVE_INFINITY;
    return bound * 1000;
  };
  return {
    count,
    meanMs: (total('_sum') / count) * 1000,
    p50AtMostMs: atMost(50),
    p99AtMostMs: atMost(99),
  };
}

/** A counter summed over its labels, grouped by one label (e.g. reason). */
export function counterBy(text: string, name: string, label: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const sample of parseSamples(text).filter((s) => s.name === name)) {
    const key = sample.labels[label] ?? '';
    totals[key] = (totals[key] ?? 0) + sample.value;
  }
  return totals;
}
