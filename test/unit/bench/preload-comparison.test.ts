/** The preloaded run is compared with the mean of the empty-ledger runs either side of it. */
import { preloadComparison } from '../../../src/bench/report';

test('the preloaded throughput is a share of the mean of the runs before and after it', () => {
  expect(preloadComparison(1800, { before: 1900, after: 2100 })).toEqual({
    emptyLedgerBeforeEventsPerSecond: 1900,
    emptyLedgerAfterEventsPerSecond: 2100,
    preloadedVsEmptyPercent: 90,
  });
});

test('a machine that sped up between the runs does not count against the ledger', () => {
  // 2,000 against a first run of 1,600 and a last of 2,400: on par with the machine at the time.
  expect(preloadComparison(2000, { before: 1600, after: 2400 }).preloadedVsEmptyPercent).toBe(100);
});
