import {
  policyProblems,
  validateNewPolicy,
  type FeePolicy,
  type VolumeTier,
} from '../../../src/domain/fees';
import { expectFeePolicyError, policyWith } from './fee-fixtures';

const now = new Date('2026-05-10T12:00:00Z');
const march = policyWith({ policyId: 1, effectiveFrom: new Date('2026-03-01T00:00:00Z') });
const june = policyWith({ policyId: 2, effectiveFrom: new Date('2026-06-01T00:00:00Z') });
const candidate = (overrides: Partial<FeePolicy>) =>
  policyWith({ policyId: null, effectiveFrom: new Date('2026-07-01T00:00:00Z'), ...overrides });

describe('validateNewPolicy: accepted versions', () => {
  test('returns the candidate itself when it starts after the latest version', () => {
    const next = candidate({});
    expect(validateNewPolicy([june, march], next, now)).toBe(next);
  });

  test('a version may start exactly now, and the first version needs no predecessor', () => {
    const startingNow = candidate({ effectiveFrom: new Date(now.getTime()) });
    expect(validateNewPolicy([], startingNow, now)).toBe(startingNow);
    expect(validateNewPolicy([march], startingNow, now)).toBe(startingNow);
  });

  test('a complete policy with tiers, minimums and dispute fees passes', () => {
    const full = candidate({
      rate: '0.12345678',
      volumeTiers: [
        { minVolume: '10000', rate: '0.08' },
        { minVolume: '10000.5', rate: '0.05' },
        { minVolume: '100000.00', rate: '0' },
      ],
      minimumFees: { USD: '1.00', JPY: '100', KWD: '0.250' },
      disputeFees: { USD: '15', EUR: '12.50' },
      volumeWindowDays: 365,
    });
    expect(policyProblems(full)).toEqual([]);
    expect(validateNewPolicy([march], full, now)).toBe(full);
  });
});

describe('validateNewPolicy: FEE_POLICY_RETROACTIVE', () => {
  test('refuses a version starting before now, even by a millisecond', () => {
    const past = candidate({ effectiveFrom: new Date(now.getTime() - 1) });
    expectFeePolicyError(
      () => validateNewPolicy([], past, now),
      'FEE_POLICY_RETROACTIVE',
      'must not change',
      'set effectiveFrom to now or later',
    );
  });
});

describe('validateNewPolicy: FEE_POLICY_OVERLAP', () => {
  test('refuses a version starting at the same instant as an existing one', () => {
    const clash = candidate({ effectiveFrom: new Date('2026-06-01T00:00:00Z') });
    expectFeePolicyError(
      () => validateNewPolicy([march, june], clash, now),
      'FEE_POLICY_OVERLAP',
      'fee policy 2 (effective from 2026-06-01T00:00:00.000Z) already starts at that instant',
      'must start after the latest existing one',
    );
  });

  test('refuses a version that would slip in before a later planned one', () => {
    const between = candidate({ effectiveFrom: new Date('2026-05-20T00:00:00Z') });
    expectFeePolicyError(
      () => validateNewPolicy([june, march], between, now),
      'FEE_POLICY_OVERLAP',
      'fee policy 2',
      'starts later',
      'set effectiveFrom later than 2026-06-01T00:00:00.000Z',
    );
  });
});

describe('validateNewPolicy: FEE_POLICY_INVALID', () => {
  const expectInvalid = (overrides: Partial<FeePolicy>, ...fragments: string[]) =>
    expectFeePolicyError(
      () => validateNewPolicy([], candidate(overrides), now),
      'FEE_POLICY_INVALID',
      ...fragments,
    );

  test.each(['1', '1.0', '2', '-0.10', '0,10', '.1', '1e-1', ' 0.10', '', 'NaN'])(
    'refuses the rate %p: not a decimal in [0, 1)',
    (rate) => {
      expectInvalid({ rate }, 'rate', 'not a decimal in [0, 1)');
    },
  );

  test('refuses a rate the database would round (more than 8 fractional digits)', () => {
    expectInvalid({ rate: '0.123456789' }, 'rate "0.123456789" has 9 fractional digits');
  });

  test('accepts the edges of the rate range', () => {
    for (const rate of ['0', '0.00', '0.99999999']) {
      expect(policyProblems(candidate({ rate }))).toEqual([]);
    }
  });

  test('refuses a tier rate outside [0, 1)', () => {
    const volumeTiers = [{ minVolume: '1000.00', rate: '1.00' }];
    expectInvalid({ volumeTiers }, 'volumeTiers[0].rate "1.00" is not a decimal in [0, 1)');
  });

  test.each([
    ['equal', '1000.00', '1000'],
    ['decreasing', '1000.00', '999.99'],
  ])('refuses tiers with %s minVolume', (_, first, second) => {
    const volumeTiers = [
      { minVolume: first, rate: '0.08' },
      { minVolume: second, rate: '0.05' },
    ];
    expectInvalid({ volumeTiers }, 'volumeTiers[1].minVolume', 'strictly increasing');
  });

  test.each(['0', '0.00', '-5', '1e4', '10,000', ''])('refuses the tier minVolume %p', (text) => {
    const volumeTiers = [{ minVolume: text, rate: '0.08' }];
    expectInvalid({ volumeTiers }, 'volumeTiers[0].minVolume', 'positive decimal');
  });

  test('refuses tiers that are not a list of tier objects (a hand-edited JSON column)', () => {
    const notAList = { volumeTiers: {} as unknown as VolumeTier[] };
    expectInvalid(notAList, 'volumeTiers is not a list');
    const notATier = { volumeTiers: [null] as unknown as VolumeTier[] };
    expectInvalid(notATier, 'volumeTiers[0] is not a tier');
  });

  test.each<[Record<string, string>, string, string]>([
    [{ USD: '0.00' }, 'minimumFees.USD', 'zero'],
    [{ USD: '-1.00' }, 'minimumFees.USD', 'negative'],
    [{ USD: '1.001' }, 'minimumFees.USD', 'AMOUNT_PRECISION'],
    [{ JPY: '5.5' }, 'minimumFees.JPY', 'AMOUNT_PRECISION'],
    [{ usd: '1.00' }, 'minimumFees.usd', 'UNKNOWN_CURRENCY'],
    [{ USD: '1e2' }, 'minimumFees.USD', 'not a plain decimal'],
  ])('refuses the minimum fees %p', (minimumFees, field, reason) => {
    expectInvalid({ minimumFees }, field, reason);
  });

  test('refuses dispute fees by the same amount rules', () => {
    expectInvalid({ disputeFees: { KWD: '1.0005' } }, 'disputeFees.KWD', 'AMOUNT_PRECISION');
    expectInvalid({ disputeFees: { EUR: '0' } }, 'disputeFees.EUR', 'zero');
  });

  test.each([0, -30, 1.5, Number.NaN])('refuses volumeWindowDays %p', (volumeWindowDays) => {
    expectInvalid({ volumeWindowDays }, 'volumeWindowDays', 'positive whole number of days');
  });

  test('refuses an invalid effectiveFrom', () => {
    expectInvalid({ effectiveFrom: new Date('soon') }, 'effectiveFrom is not a valid date');
  });

  test('lists every broken rule at once, so one fix round is enough', () => {
    const error = expectInvalid(
      { rate: '1.5', volumeWindowDays: 0, minimumFees: { USD: '0' } },
      'breaks 3 rules',
    );
    expect(error.message.split('; ')).toHaveLength(3);
  });

  test('checks the fields before the dates, so a broken past version names its fields', () => {
    const pastAndBroken = candidate({ rate: '2', effectiveFrom: new Date('2020-01-01T00:00:00Z') });
    expectFeePolicyError(
      () => validateNewPolicy([], pastAndBroken, now),
      'FEE_POLICY_INVALID',
      'rate "2"',
    );
  });

  test('refuses an Invalid Date for now', () => {
    expect(() => validateNewPolicy([], candidate({}), new Date(Number.NaN))).toThrow(RangeError);
  });
});
