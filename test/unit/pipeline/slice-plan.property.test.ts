/**
 * Planning a stream as one slice gives the same results and rows as planning
 * it in slices of any size, down to one event at a time: without a database,
 * on the plan alone (slice-plan.ts is pure). Between slices the state goes on
 * as the write step and the next load would carry it: new inbox keys stored,
 * events kept by a slice stored as kept events, everything else as the plan
 * left it. The stream is the benchmark's, with orders overtaken by their own
 * events (kept, then replayed), retried callbacks and rejections.
 */
import fc from 'fast-check';
import { defaultFeePolicy } from '../../../src/domain/fees';
import type { InboundEvent } from '../../../src/pipeline/events';
import { inboxKeyOf } from '../../../src/pipeline/inbox-key';
import { emptySliceState, type KeyedEvent } from '../../../src/pipeline/slice';
import { SlicePlan } from '../../../src/pipeline/slice-plan';
import { benchStream } from '../../support/bench-stream';
import { storeKeptEvents } from '../../support/plan-carry-over';

const now = new Date('2026-06-01T09:00:00Z');

/** What one run wrote and ended in, as comparable text: every row and result, in order. */
interface Written {
  results: string[];
  inbox: [string, string][];
  ledger: string[];
  outcomes: string[];
  /** Every event ever kept, and those still kept at the end. */
  kept: string[];
  stillKept: string[];
  orders: string;
  milestones: string;
}

const text = (value: unknown) =>
  JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner,
  );

/** Plans the stream in slices of the given sizes, carrying the state from one to the next. */
function planInSlices(events: readonly InboundEvent[], sizes: () => number): Written {
  const state = emptySliceState(now, defaultFeePolicy('0.10'));
  const results: string[] = [];
  const inbox = new Map<string, string>();
  const ledger: string[] = [];
  const outcomes: string[] = [];
  const kept: string[] = [];
  let keptIds = 0;
  for (let start = 0; start < events.length;) {
    const keyed: KeyedEvent[] = events
      .slice(start, start + Math.max(1, sizes()))
      .map((event) => ({ event, ...inboxKeyOf(event.command) }));
    start += keyed.length;
    const plan = new SlicePlan(state);
    for (const result of plan.planAll(keyed)) results.push(`${result.verdict} ${result.reason}`);
    // The write: new inbox rows, and the verdicts of stored kept events replayed now.
    for (const [key, row] of plan.inbox) inbox.set(key, `${row.outcome} ${row.reason}`);
    for (const [key, verdict] of state.storedKept) {
      if (verdict) inbox.set(key, `${verdict.outcome} ${verdict.reason}`);
    }
    for (const { draft, cause } of plan.drafts) ledger.push(text({ draft, cause }));
    for (const decided of plan.decided) {
      outcomes.push(
        text({ cause: decided.event.command.eventId, outcomes: decided.decision.outcomes }),
      );
    }
    for (const row of plan.keptRows) kept.push(row.dedupe_key);
    // The next load: what this slice kept is stored now, and waits for its order.
    storeKeptEvents(state, () => String((keptIds += 1)));
  }
  const sorted = <T>(map: Map<string, T>) => text([...map].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    results,
    inbox: [...inbox].sort(),
    ledger,
    outcomes,
    kept: kept.sort(),
    stillKept: [...state.kept.values()]
      .flat()
      .map((item) => item.key)
      .sort(),
    orders: sorted(state.orders),
    milestones: sorted(state.milestones),
  };
}

let runsWithKeptEvents = 0;

test('one slice, slices of any size and one event at a time give the same results and rows', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 0, max: 30 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 20 }),
      (seed, spread, sizes) => {
        const events = benchStream(String(seed), 240, spread);
        const whole = planInSlices(events, () => events.length);
        let next = 0;
        const mixed = planInSlices(events, () => sizes[next++ % sizes.length]!);
        const single = planInSlices(events, () => 1);
        expect(mixed).toEqual(whole);
        expect(single).toEqual(whole);
        // It covered what it claims to: duplicates, releases, and (across runs) kept events.
        expect(whole.results.some((result) => result.startsWith('DUPLICATE'))).toBe(true);
        expect(whole.ledger.some((line) => line.includes('"kind":"RELEASE"'))).toBe(true);
        if (whole.kept.length > 0) runsWithKeptEvents += 1;
      },
    ),
    { numRuns: 12 },
  );
  expect(runsWithKeptEvents).toBeGreaterThan(3);
});
