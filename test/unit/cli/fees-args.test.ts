/**
 * `escrow-worker fees` arguments: a new version from text, usage errors for
 * text of the wrong shape (exit 2), and the policy rules left to the domain
 * (FEE_POLICY_INVALID, exit 1) so that they are said once, in one place.
 */
import { UsageError } from '../../../src/cli/command';
import { parseFeesArgs } from '../../../src/cli/fees-command';
import { policiesTable, rateText } from '../../../src/fees/format-policies';
import { parseInstant } from '../../../src/fees/policy-input';
import type { StoredFeePolicy } from '../../../src/fees/policy-store';

const usageError = (args: string[]) => {
  try {
    parseFeesArgs(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`fees ${args.join(' ')} was accepted`);
};

test('fees add: every option into one candidate version', () => {
  const args = ['add', '--effective-from', '2026-12-01T00:00:00Z', '--rate', '0.08'];
  const more = [
    ['--minimum', 'USD=1.00'],
    ['--minimum', 'JPY=100'],
    ['--tier', '10000.00=0.07'],
    ['--tier', '50000.00=0.06'],
    ['--volume-window-days', '90'],
    ['--dispute-fee', 'USD=15.00'],
    ['--note', 'winter pricing'],
    ['--dry-run'],
  ].flat();
  expect(parseFeesArgs([...args, ...more])).toEqual({
    command: 'add',
    dryRun: true,
    json: false,
    policy: {
      policyId: null,
      effectiveFrom: new Date('2026-12-01T00:00:00Z'),
      rate: '0.08',
      minimumFees: { USD: '1.00', JPY: '100' },
      volumeTiers: [
        { minVolume: '10000.00', rate: '0.07' },
        { minVolume: '50000.00', rate: '0.06' },
      ],
      volumeWindowDays: 90,
      disputeFees: { USD: '15.00' },
      note: 'winter pricing',
    },
  });
});

test('fees add: defaults are the column defaults (no minimum, no tiers, 30 days)', () => {
  const invocation = parseFeesArgs(['add', '--effective-from=2027-01-01T00:00:00Z', '--rate=0.1']);
  expect(invocation).toMatchObject({
    policy: { minimumFees: {}, volumeTiers: [], volumeWindowDays: 30, disputeFees: {}, note: null },
  });
});

test.each([
  [['add', '--rate', '0.08'], 'fees add needs --effective-from'],
  [['add'], 'fees add needs --effective-from and --rate'],
  [
    ['add', '--effective-from', '2026-12-01', '--rate', '0.1'],
    'is not an ISO-8601 instant with a zone',
  ],
  [
    ['add', '--effective-from', '2026-02-30T00:00:00Z', '--rate', '0.1'],
    'is not an ISO-8601 instant',
  ],
  [['add', '--effective-from', '2026-12-01T00:00:00', '--rate', '0.1'], 'with a zone'],
  [
    ['add', '--effective-from=2026-12-01T00:00Z', '--rate=0.1', '--minimum=USD'],
    '--minimum "USD" is not a pair: write it like --minimum USD=1.00',
  ],
  [
    ['add', '--effective-from=2026-12-01T00:00Z', '--rate=0.1', '--tier=10000.00'],
    '--tier "10000.00" is not a pair',
  ],
  [
    [
      'add',
      '--effective-from=2026-12-01T00:00Z',
      '--rate=0.1',
      '--dispute-fee=USD=1',
      '--dispute-fee=USD=2',
    ],
    '--dispute-fee gives USD twice',
  ],
  [
    ['add', '--effective-from=2026-12-01T00:00Z', '--rate=0.1', '--volume-window-days=1.5'],
    'is not a whole number of days',
  ],
  [['list', '--rate', '0.1'], '--rate does not apply to fees list'],
  [['list', 'now'], 'unexpected argument "now"'],
  [[], 'fees needs a subcommand: list or add'],
  [['remove'], 'unknown subcommand "remove"'],
])('fees %j is a usage error: %s', (args, message) => {
  expect(usageError(args)).toContain(message);
});

test('policy rules are the domain’s: an out-of-range rate parses, and is refused on add', () => {
  expect(parseFeesArgs(['add', '--effective-from=2026-12-01T00:00Z', '--rate=1.5'])).toMatchObject({
    policy: { rate: '1.5' },
  });
});

test('instants: zones, fractions, and fields that must exist', () => {
  expect(parseInstant('2026-12-01T01:30:00.5+01:30').toISOString()).toBe(
    '2026-12-01T00:00:00.500Z',
  );
  expect(parseInstant('2026-12-01T00:00-05:00').toISOString()).toBe('2026-12-01T05:00:00.000Z');
  expect(() => parseInstant('2026-12-01T24:00:00Z')).toThrow(/not an ISO-8601 instant/);
  expect(() => parseInstant('2026-12-01T00:00:00+25:00')).toThrow(/not an ISO-8601 instant/);
});

test('list: help, and --json', () => {
  expect(parseFeesArgs(['list', '--json'])).toEqual({ command: 'list', json: true });
  expect(parseFeesArgs(['add', '--help'])).toEqual({ command: 'help' });
});

const version = (policyId: number, effectiveFrom: string, rate: string): StoredFeePolicy => ({
  policyId,
  effectiveFrom: new Date(effectiveFrom),
  rate,
  minimumFees: { USD: '1.00' },
  volumeTiers: [{ minVolume: '10000.00', rate: '0.07' }],
  volumeWindowDays: 30,
  disputeFees: {},
  note: null,
  createdAt: new Date('2026-01-01T00:00:00Z'),
});

test('the table marks history, the version in force and the scheduled ones, with exact rates', () => {
  expect(rateText('0.08000000')).toBe('8% (0.08)');
  expect(rateText('0.12345678')).toBe('12.345678% (0.12345678)');
  const now = new Date('2026-06-01T00:00:00Z');
  const table = policiesTable(
    [
      version(1, '2026-01-01T00:00:00Z', '0.09'),
      version(2, '2026-03-01T00:00:00Z', '0.08'),
      version(3, '2026-12-01T00:00:00Z', '0.07'),
    ],
    now,
    '0.10',
  ).split('\n');
  expect(table[1]).toMatch(/^-+( +-+)+$/);
  expect(table[2]).toMatch(
    /^1 +2026-01-01T00:00:00.000Z +superseded +9% \(0\.09\) +USD 1\.00 +from 10000\.00: 7% +30 d +- *$/,
  );
  expect(table[3]).toMatch(/^2 .* in force +8% \(0\.08\)/);
  expect(table[4]).toMatch(/^3 .* scheduled +7% \(0\.07\)/);
  expect(table[5]).toBe('default (PLATFORM_FEE_RATE 10% (0.1)): superseded by the versions above');
  expect(policiesTable([version(3, '2026-12-01T00:00:00Z', '0.07')], now, '0.10')).toContain(
    'default (PLATFORM_FEE_RATE 10% (0.1)): in force now, no stored version has started',
  );
});
