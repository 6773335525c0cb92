/** The benchmark's arithmetic: flags, percentiles, throughput, and reading the worker's /metrics. */
import { parseOptions, UsageError } from '../../../src/bench/options';
import { percentile, runFigures } from '../../../src/bench/stats';
import { counterBy, histogramSummary } from '../../../src/bench/worker-metrics';

test('flags: defaults, values in both spellings, and refusals that name the fix', () => {
  expect(parseOptions([])).toMatchObject({
    events: 10_000,
    rate: undefined,
    seed: '1',
    keep: false,
  });
  expect(parseOptions(['--events', '500', '--rate=200', '--seed', 'x', '--keep'])).toMatchObject({
    events: 500,
    rate: 200,
    seed: 'x',
    keep: true,
  });
  expect(parseOptions(['--help'])).toBe('help');
  expect(() => parseOptions(['--events', '1.5'])).toThrow(
    /--events takes a whole number .* e\.g\./,
  );
  expect(() => parseOptions(['--rate'])).toThrow(UsageError);
  expect(() => parseOptions(['--fast'])).toThrow(/unknown option "--fast"; see --help/);
});

test('nearest-rank percentiles', () => {
  const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(values, 50)).toBe(50);
  expect(percentile(values, 99)).toBe(99);
  expect(percentile(values, 100)).toBe(100);
  expect(percentile([7], 99)).toBe(7);
});

test('latency counts every event but retried callbacks; one without an outcome is reported', () => {
  const figures = runFigures({
    sentAt: new Map([
      ['a', 1000],
      ['b', 1000],
      ['a-retry', 1010],
      ['c', 1500],
    ]),
    publishedAt: new Map([
      ['a', 1100],
      ['b', 1300],
    ]),
    duplicates: new Set(['a-retry']),
    firstSentAt: 1000,
    lastPublishedAt: 3000,
  });
  expect(figures.latency).toMatchObject({ samples: 2, p50Ms: 100, maxMs: 300 });
  expect(figures.withoutOutcome).toEqual(['c']);
  expect(figures.eventsPerSecond).toBe(2); // 4 events over 2 s
});

test("the worker's histograms and counters are summed over their labels", () => {
  const text = [
    '# TYPE escrow_event_processing_seconds histogram',
    'escrow_event_processing_seconds_bucket{le="0.005",topic="a"} 6',
    'escrow_event_processing_seconds_bucket{le="0.01",topic="a"} 9',
    'escrow_event_processing_seconds_bucket{le="+Inf",topic="a"} 10',
    'escrow_event_processing_seconds_bucket{le="0.005",topic="b"} 0',
    'escrow_event_processing_seconds_bucket{le="0.01",topic="b"} 10',
    'escrow_event_processing_seconds_bucket{le="+Inf",topic="b"} 10',
    'escrow_event_processing_seconds_sum{topic="a"} 0.1',
    'escrow_event_processing_seconds_count{topic="a"} 10',
    'escrow_event_processing_seconds_sum{topic="b"} 0.1',
    'escrow_event_processing_seconds_count{topic="b"} 10',
    'escrow_duplicates_absorbed_total{topic="p"} 3',
  ].join('\n');
  const summary = histogramSummary(text, 'escrow_event_processing_seconds')!;
  expect(summary.count).toBe(20);
  expect(summary.meanMs).toBeCloseTo(10);
  expect(summary.p50AtMostMs).toBe(10); // 6 of 20 at or below 5 ms, 19 at or below 10 ms
  expect(summary.p99AtMostMs).toBe(Number.POSITIVE_INFINITY);
  expect(histogramSummary(text, 'escrow_lock_wait_seconds')).toBeNull();
  expect(counterBy(text, 'escrow_duplicates_absorbed_total', 'topic')).toEqual({ p: 3 });
});

test('--instances: 1 by default, 1 to 8', () => {
  expect(parseOptions([])).toMatchObject({ instances: 1 });
  expect(parseOptions(['--instances', '2'])).toMatchObject({ instances: 2 });
  expect(parseOptions(['--instances=8'])).toMatchObject({ instances: 8 });
  expect(() => parseOptions(['--instances', '9'])).toThrow(
    /--instances takes a whole number from 1 to 8/,
  );
  expect(() => parseOptions(['--instances', '0'])).toThrow(UsageError);
});

test("several workers' /metrics texts, one after the other, sum as one worker's", () => {
  const instance = (fast: number, slow: number, absorbed: number) =>
    [
      '# HELP escrow_lock_wait_seconds Redlock wait',
      '# TYPE escrow_lock_wait_seconds histogram',
      `escrow_lock_wait_seconds_bucket{le="0.005"} ${fast}`,
      `escrow_lock_wait_seconds_bucket{le="0.1"} ${fast + slow}`,
      `escrow_lock_wait_seconds_bucket{le="+Inf"} ${fast + slow}`,
      `escrow_lock_wait_seconds_sum ${fast * 0.001 + slow * 0.05}`,
      `escrow_lock_wait_seconds_count ${fast + slow}`,
      `escrow_duplicates_absorbed_total{topic="p"} ${absorbed}`,
    ].join('\n');
  const merged = [instance(99, 1, 2), instance(0, 100, 3)].join('\n');
  const summary = histogramSummary(merged, 'escrow_lock_wait_seconds')!;
  expect(summary.count).toBe(200);
  expect(summary.meanMs).toBeCloseTo((99 * 1 + 101 * 50) / 200);
  expect(summary.p50AtMostMs).toBe(100); // 99 of 200 at or below 5 ms: the median is in the next bucket
  expect(counterBy(merged, 'escrow_duplicates_absorbed_total', 'topic')).toEqual({ p: 5 });
});
