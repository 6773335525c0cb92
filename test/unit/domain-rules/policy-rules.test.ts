/**
 * The rules a fee policy obeys, as the operator who wrote it reads them back:
 * each problem names the field and its fix, the count is told in words
 * ("breaks 1 rule"), the policy is named by its id when it has one, and a
 * hand-edited JSON value of the wrong shape is named as such rather than
 * read as something else.
 */
import {
  assertValidPolicy,
  computeReleaseFee,
  describePolicy,
  type FeePolicy,
  FeePolicyError,
  policyProblems,
  type VolumeTier,
} from '../../../src/domain/fees';
import { policyWith, usd } from '../fees/fee-fixtures';

const withFees = (field: 'minimumFees' | 'disputeFees', fees: unknown) =>
  policyWith({ [field]: fees as Record<string, string> });

describe('the fixed fees must be an object of currency to amount', () => {
  test.each([
    ['null', null],
    ['a list', ['1.00']],
    ['a string', '1.00'],
    ['a number', 5],
  ])('minimumFees and disputeFees as %s are named as not an object, with the fix', (_, value) => {
    for (const field of ['minimumFees', 'disputeFees'] as const) {
      expect(policyProblems(withFees(field, value))).toEqual([
        `${field} is not an object of currency to amount: write {} for none`,
      ]);
    }
  });
});

describe('volume tiers', () => {
  test.each([
    ['a string', '10000.00'],
    ['a number', 10000],
    ['null', null],
  ])('a tier given as %s is not a tier: the message shows the shape to write', (_, entry) => {
    const volumeTiers = [entry] as unknown as VolumeTier[];
    expect(policyProblems(policyWith({ volumeTiers }))).toEqual([
      'volumeTiers[0] is not a tier: write {"minVolume": "10000.00", "rate": "0.08"}',
    ]);
  });

  test('a zero minVolume is refused with its fix: set the base rate instead', () => {
    const volumeTiers = [{ minVolume: '0.00', rate: '0.08' }];
    expect(policyProblems(policyWith({ volumeTiers }))).toEqual([
      'volumeTiers[0].minVolume "0.00" is not a positive decimal in major units: write it like ' +
        '"10000.00"; a tier from zero volume would always apply, so set the base rate instead',
    ]);
  });

  test('a decimal of up to 40 characters is read; a longer one is refused unread', () => {
    const longest = `1${'0'.repeat(39)}`;
    expect(longest).toHaveLength(40);
    expect(
      policyProblems(policyWith({ volumeTiers: [{ minVolume: longest, rate: '0.05' }] })),
    ).toEqual([]);
    const tooLong = `${longest}0`;
    expect(
      policyProblems(policyWith({ volumeTiers: [{ minVolume: tooLong, rate: '0.05' }] })),
    ).toEqual([
      expect.stringMatching(/^volumeTiers\[0\]\.minVolume "1000.*" is not a positive decimal/),
    ]);
  });
});

test('volumeWindowDays refused says how to write it', () => {
  expect(policyProblems(policyWith({ volumeWindowDays: 0 }))).toEqual([
    'volumeWindowDays "0" is not a positive whole number of days: write it like 30',
  ]);
});

describe('the policy named in a refusal', () => {
  const start = new Date('2026-01-01T00:00:00Z');

  test('by its id when stored, as "fee policy" alone for the default or a version not stored yet', () => {
    expect(describePolicy(policyWith({ policyId: 7, effectiveFrom: start }))).toBe(
      'fee policy 7 (effective from 2026-01-01T00:00:00.000Z)',
    );
    expect(describePolicy(policyWith({ policyId: null, effectiveFrom: start }))).toBe(
      'fee policy (effective from 2026-01-01T00:00:00.000Z)',
    );
    expect(describePolicy(policyWith({ policyId: null, effectiveFrom: new Date('soon') }))).toBe(
      'fee policy',
    );
  });

  test.each<[Partial<FeePolicy>, string]>([
    [{ rate: '2' }, 'breaks 1 rule (FEE_POLICY_INVALID): rate "2"'],
    [{ rate: '2', volumeWindowDays: 0 }, 'breaks 2 rules (FEE_POLICY_INVALID): rate "2"'],
  ])('counts the rules broken in words: %j', (overrides, expected) => {
    let thrown: unknown;
    try {
      assertValidPolicy(policyWith({ policyId: null, effectiveFrom: start, ...overrides }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FeePolicyError);
    expect((thrown as FeePolicyError).message).toMatch(
      new RegExp(
        `^fee policy \\(effective from 2026-01-01T00:00:00\\.000Z\\) ${expected.replace(/[()]/g, '\\$&')}`,
      ),
    );
  });
});

describe('a policy is checked before every fee it prices', () => {
  const price = (policy: FeePolicy) => computeReleaseFee(usd('100.00'), policy, usd('0'));

  test('one frozen through is checked once: its rules read volumeWindowDays, a fee never does', () => {
    let reads = 0;
    const policy = policyWith({ volumeTiers: Object.freeze([]) });
    const counted = Object.defineProperty({ ...policy }, 'volumeWindowDays', {
      get: () => {
        reads += 1;
        return 30;
      },
      enumerable: true,
    });
    Object.freeze(counted.minimumFees);
    Object.freeze(counted.disputeFees);
    Object.freeze(counted);
    price(counted);
    const checked = reads;
    expect(checked).toBeGreaterThan(0);
    price(counted);
    price(counted);
    expect(reads).toBe(checked);
  });

  test('one not frozen through is checked every time, so a change after a fee is refused', () => {
    const policy = { ...policyWith(), rate: '0.10' };
    price(policy);
    policy.rate = '1.5';
    expect(() => price(policy)).toThrow(FeePolicyError);
  });

  test('a frozen one whose date was made invalid after a fee is refused (freezing does not hold a Date)', () => {
    const policy = Object.freeze({
      ...policyWith(),
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      minimumFees: Object.freeze({}),
      disputeFees: Object.freeze({}),
      volumeTiers: Object.freeze([]),
    });
    price(policy);
    policy.effectiveFrom.setTime(Number.NaN);
    expect(() => price(policy)).toThrow('effectiveFrom is not a valid date');
  });
});
