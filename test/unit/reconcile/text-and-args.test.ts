/**
 * The pure parts of reconciliation: durations and amounts as the report
 * writes them, the command line's arguments, and the key-range SQL of a chunk.
 */
import { parseReconcileArgs } from '../../../src/cli/reconcile-command';
import { UsageError } from '../../../src/cli/command';
import { DurationError, parseDuration } from '../../../src/reconcile';
import { inRange } from '../../../src/reconcile/scan';
import { amountText, amountsText, durationText } from '../../../src/reconcile/text';

test.each([
  ['90s', 90_000],
  ['5m', 300_000],
  ['1h30m', 5_400_000],
  ['30d', 2_592_000_000],
  ['2w', 1_209_600_000],
  ['250ms', 250],
])('parseDuration(%s) = %d ms', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});

test.each(['', '5', 'm5', '1.5h', '5 m', '-5m', '1y', '1h 30m'])(
  'parseDuration refuses %j, saying how to write one',
  (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(
      /write a number and a unit .* such as 90s, 5m, 1h30m, 30d/,
    );
  },
);

test('durationText keeps the two largest units and drops zeros', () => {
  expect(
    [0, 250, 12_000, 2_700_000, 3_660_000, 30 * 86_400_000, 31 * 86_400_000 + 4 * 3_600_000].map(
      durationText,
    ),
  ).toEqual(['0s', '250ms', '12s', '45m', '1h 1m', '30d', '31d 4h']);
});

test('amounts are exact major-unit strings with their currency, never through a JS number', () => {
  expect(amountText('123456789012345678', 'USD')).toBe('1234567890123456.78 USD');
  expect(amountText('-5', 'USD')).toBe('-0.05 USD');
  expect(amountText(5000n, 'JPY')).toBe('5000 JPY');
  expect(amountText('1500', 'KWD')).toBe('1.500 KWD');
  expect(amountText('7', 'ZZZ')).toBe('7 minor units of "ZZZ"');
  expect(
    amountsText(
      new Map([
        ['USD', 100n],
        ['EUR', 250n],
      ]),
    ),
  ).toEqual(['2.50 EUR', '1.00 USD']);
});

test('reconcile arguments: thresholds as durations, flags, and usage errors', () => {
  expect(parseReconcileArgs([])).toEqual({
    help: false,
    json: false,
    progress: false,
    options: {},
  });
  expect(
    parseReconcileArgs([
      '--json',
      '--progress',
      '--unmatched-after',
      '2h',
      '--outbox-after',
      '90s',
      '--stuck-after',
      '45d',
      '--unsettled-after',
      '5d',
      '--failed-after',
      '12h',
      '--receivable-after',
      '60d',
      '--refused-within',
      '2w',
      '--max-examples',
      '5',
    ]),
  ).toEqual({
    help: false,
    json: true,
    progress: true,
    options: {
      unmatchedPaymentAfterMs: 7_200_000,
      outboxUnpublishedAfterMs: 90_000,
      stuckFundsAfterMs: 45 * 86_400_000,
      unsettledRequestAfterMs: 5 * 86_400_000,
      failedNotRetriedAfterMs: 12 * 3_600_000,
      receivableOutstandingAfterMs: 60 * 86_400_000,
      refusedSettlementWindowMs: 14 * 86_400_000,
      maxExamplesPerCheck: 5,
    },
  });
  expect(parseReconcileArgs(['-h']).help).toBe(true);
  expect(() => parseReconcileArgs(['--nope'])).toThrow(UsageError);
  expect(() => parseReconcileArgs(['extra'])).toThrow(UsageError);
  expect(() => parseReconcileArgs(['--max-examples', 'all'])).toThrow(
    /--max-examples "all" is not a whole number/,
  );
  expect(() => parseReconcileArgs(['--stuck-after', 'soon'])).toThrow(DurationError);
  expect(() => parseReconcileArgs(['--failed-after', '1 day'])).toThrow(DurationError);
});

test('a chunk is a key range: (after, upTo], either end open', () => {
  expect(inRange(['t.id'], { after: null, upTo: null })).toEqual({ sql: 'true', bindings: [] });
  expect(inRange(['t.id'], { after: ['10'], upTo: ['20'] })).toEqual({
    sql: '(t.id) > (?) AND (t.id) <= (?)',
    bindings: ['10', '20'],
  });
  expect(inRange(['m.order_id', 'm.milestone_id'], { after: ['o-1', 'm-2'], upTo: null })).toEqual({
    sql: '(m.order_id, m.milestone_id) > (?, ?)',
    bindings: ['o-1', 'm-2'],
  });
});
