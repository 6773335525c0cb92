/**
 * Fees in the live path (CONTRACT.md, "Fees"), through applyEvent and the
 * inspection timer against fee policies stored in fee_policies (added with
 * the operators' addFeePolicy) and the releases read model:
 *  - computed at release from the policy in force then, not at funding: a
 *    milestone funded under the default 10 % and released after a new version
 *    took effect pays the new rate; one released before keeps its fee;
 *  - the policy's minimum fee, and a minimum that takes the whole gross;
 *  - volume tiers through the trailing-window query: released gross of the
 *    same provider in the same currency inside the window counts, a release
 *    older than the window, another provider's and another currency's do not;
 *  - the stored dispute fee on the provider's part of a resolved dispute,
 *    charged under the policy in force at resolution, capped by the part.
 * The clock starts at the real time, because the releases read model is
 * stamped by the database's clock; releases older than the window are
 * back-dated in that read model.
 */
import type { NewFeePolicy } from '../../src/fees/policy-input';
import { addFeePolicy, type StoredFeePolicy } from '../../src/fees/policy-store';
import { createLogger } from '../../src/logging/logger';
import { InspectionTimer } from '../../src/timers/inspection-timer';
import {
  dispute,
  milestone,
  openOrder,
  payment,
  reached,
  resolveDispute,
  useContractPipeline,
} from '../support/contract-pipeline';
import {
  balances,
  balancesOf,
  detailsOf,
  ledgerOf,
  outboxMark,
  outboxOf,
  outcome,
  posted,
} from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext({ PLATFORM_FEE_RATE: '0.10' });
const hour = 3600_000;
const day = 24 * hour;
const start = new Date(Math.floor(Date.now() / 1000) * 1000);
const at = (offsetMs: number) => new Date(start.getTime() + offsetMs);
const pipeline = useContractPipeline(ctx, start);
let policy: StoredFeePolicy;

const newPolicy: NewFeePolicy = {
  policyId: null,
  effectiveFrom: at(hour),
  rate: '0.08',
  minimumFees: { USD: '5.00' },
  volumeTiers: [{ minVolume: '1000.00', rate: '0.05' }],
  volumeWindowDays: 30,
  disputeFees: { USD: '15.00' },
  note: 'contract-rules-fees',
};

/** Opens, funds and reaches a one-milestone order: released at once (no inspection period). */
async function release(
  orderId: string,
  amount: string,
  options: { providerId?: string; currency?: string } = {},
) {
  const currency = options.currency ?? 'USD';
  for (const command of [
    openOrder(orderId, [milestone('m-1', amount)], options),
    payment(orderId, 'm-1', amount, `ch-${orderId}`, { currency }),
    reached(orderId, 'm-1'),
  ]) {
    expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
  }
  return releaseOf(orderId);
}

/** The order's payout and its ledger release, as gross/fee/net and the memo's policy facts. */
async function releaseOf(orderId: string) {
  const payouts = (await outboxOf(ctx.db, orderId))
    .filter((row) => row.type === 'PAYOUT_REQUESTED')
    .map(outcome)
    .map(({ gross, fee, net }) => ({ gross, fee, net }));
  const transactions = (await ledgerOf(ctx.db, orderId)).filter((tx) => tx.kind === 'RELEASE');
  return {
    payouts,
    releases: transactions.map((tx) => ({
      entries: tx.entries,
      policyId: tx.memo.feePolicyId,
      rate: tx.memo.feeRate,
      minimum: tx.memo.minimumFeeApplied,
    })),
  };
}

async function backdateRelease(orderId: string, daysAgo: number) {
  const updated = await ctx
    .db('releases')
    .whereIn(
      'transaction_id',
      ctx.db('ledger_transactions').where({ order_id: orderId }).select('transaction_id'),
    )
    .update({ released_at: new Date(pipeline.now.getTime() - daysAgo * day) });
  expect(updated).toBe(1);
}

const revenue = (currency = 'USD') => `PLATFORM_REVENUE:${currency}`;
const hold = (orderId: string) => `ESCROW_HOLD:USD:${orderId}:m-1`;
const payable = (providerId: string, currency = 'USD') =>
  `PROVIDER_PAYABLE:${currency}:${providerId}`;

test('a policy that changes between funding and release: the fee is the one in force at release', async () => {
  pipeline.now = start;
  // Released under the default policy before the new version exists.
  expect(await release('o-before', '200.00')).toEqual({
    payouts: [{ gross: '200.00', fee: '20.00', net: '180.00' }],
    releases: [
      {
        entries: {
          [hold('o-before')]: '-20000',
          [payable('provider-o-before')]: '18000',
          [revenue()]: '2000',
        },
        policyId: null,
        rate: '0.10',
        minimum: false,
      },
    ],
  });
  // Funded now, at 10 %; reached at once, so its inspection period ends after the new version starts.
  for (const command of [
    openOrder('o-change', [milestone('m-1', '200.00', 3600)]),
    payment('o-change', 'm-1', '200.00', 'ch-o-change'),
    reached('o-change', 'm-1'),
  ]) {
    expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
  }

  const added = await addFeePolicy(ctx.db, newPolicy, { clock: () => pipeline.now });
  if (!added.stored) throw new Error('the fee policy was not stored');
  policy = added.policy;

  const timer = new InspectionTimer(
    ctx.db,
    pipeline.settings(),
    createLogger({ LOG_LEVEL: 'silent' }),
  );
  pipeline.now = at(hour - 1000); // the inspection period still runs
  await timer.fireDue();
  expect((await balancesOf(ctx.db, 'o-change', 'm-1')).state).toBe('AWAITING_RELEASE');

  pipeline.now = at(hour); // it ends as the new version takes effect
  await timer.fireDue();
  expect(await balancesOf(ctx.db, 'o-change', 'm-1')).toEqual(
    balances('RELEASED', 4, { amount: '20000', funded: '20000', released: '20000', fees: '1600' }),
  );
  expect(await releaseOf('o-change')).toEqual({
    payouts: [{ gross: '200.00', fee: '16.00', net: '184.00' }],
    releases: [
      {
        entries: {
          [hold('o-change')]: '-20000',
          [payable('provider-o-change')]: '18400',
          [revenue()]: '1600',
        },
        policyId: policy.policyId,
        rate: policy.rate,
        minimum: false,
      },
    ],
  });
  expect(Number(policy.rate)).toBe(0.08);
  // What was released before keeps the fee of its moment.
  expect((await releaseOf('o-before')).payouts).toEqual([
    { gross: '200.00', fee: '20.00', net: '180.00' },
  ]);
});

test('the minimum fee replaces a smaller rate-based fee, and never takes more than the gross', async () => {
  pipeline.now = at(2 * hour);
  // 30.00 at 8 % is 2.40, under the 5.00 minimum.
  expect(await release('o-minimum', '30.00')).toEqual({
    payouts: [{ gross: '30.00', fee: '5.00', net: '25.00' }],
    releases: [
      {
        entries: {
          [hold('o-minimum')]: '-3000',
          [payable('provider-o-minimum')]: '2500',
          [revenue()]: '500',
        },
        policyId: policy.policyId,
        rate: policy.rate,
        minimum: true,
      },
    ],
  });
  // 3.00 is less than the minimum: the fee is the whole gross, the provider gets nothing,
  // and nothing is asked of the payout service (no PAYOUT_REQUESTED for 0.00).
  expect(await release('o-minimum-all', '3.00')).toEqual({
    payouts: [],
    releases: [
      {
        entries: { [hold('o-minimum-all')]: '-300', [revenue()]: '300' },
        policyId: policy.policyId,
        rate: policy.rate,
        minimum: true,
      },
    ],
  });
});

test("volume tiers count the provider's released gross in the trailing window, in the release's currency only", async () => {
  pipeline.now = at(2 * hour);
  const providerId = 'p-volume';
  const fee = async (orderId: string, amount: string, currency = 'USD') =>
    (await release(orderId, amount, { providerId, currency })).payouts;

  // 5000.00 released, but 31 days ago: outside the 30-day window.
  expect(await fee('o-volume-old', '5000.00')).toEqual([
    { gross: '5000.00', fee: '400.00', net: '4600.00' },
  ]);
  await backdateRelease('o-volume-old', 31);
  // Another provider's volume is not this provider's.
  await release('o-busy', '2000.00', { providerId: 'p-busy' });
  // 800.00 at the base 8 % (counting the old release would have reached the 5 % tier: 40.00).
  expect(await fee('o-volume-1', '800.00')).toEqual([
    { gross: '800.00', fee: '64.00', net: '736.00' },
  ]);
  await backdateRelease('o-volume-1', 29); // still inside the window
  // EUR volume does not count toward USD tiers (and EUR has no minimum).
  expect(await fee('o-volume-eur', '2000.00', 'EUR')).toEqual([
    { gross: '2000.00', fee: '160.00', net: '1840.00' },
  ]);
  // 800.00 in the window: still under the 1000.00 tier.
  expect(await fee('o-volume-2', '300.00')).toEqual([
    { gross: '300.00', fee: '24.00', net: '276.00' },
  ]);
  // 1100.00 in the window: the 5 % tier.
  expect(await release('o-volume-3', '500.00', { providerId })).toEqual({
    payouts: [{ gross: '500.00', fee: '25.00', net: '475.00' }],
    releases: [
      {
        entries: {
          [hold('o-volume-3')]: '-50000',
          [payable(providerId)]: '47500',
          [revenue()]: '2500',
        },
        policyId: policy.policyId,
        rate: '0.05',
        minimum: false,
      },
    ],
  });
  const volume = await ctx
    .db('releases')
    .where({ provider_id: providerId, currency: 'USD' })
    .orderBy('transaction_id')
    .pluck('gross_minor');
  expect(volume.map(String)).toEqual(['500000', '80000', '30000', '50000']);
});

describe('the stored dispute fee', () => {
  async function disputeUnderDefaultPolicy(orderId: string) {
    pipeline.now = start; // before the new version: no dispute fee in force yet
    for (const command of [
      openOrder(orderId, [milestone('m-1', '1000.00')]),
      payment(orderId, 'm-1', '1000.00', `ch-${orderId}`),
      dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' }),
    ]) {
      expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
    }
    pipeline.now = at(2 * hour);
  }

  test('is charged on the provider part of a resolution under the policy in force at resolution', async () => {
    const orderId = 'o-dispute-fee';
    await disputeUnderDefaultPolicy(orderId);
    const mark = await outboxMark(ctx.db, orderId);
    const resolution = resolveDispute(orderId, 'm-1', '600.00', '400.00', { disputeId: 'd-1' });
    expect((await pipeline.deliver(resolution)).verdict).toBe('APPLIED');

    // 600.00 at 8 % is 48.00, plus the 15.00 dispute fee; the buyer's 400.00 pays nothing.
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('RELEASED', 4, {
        amount: '100000',
        funded: '100000',
        released: '60000',
        fees: '6300',
        refunded: '40000',
      }),
    );
    const rows = await outboxOf(ctx.db, orderId, mark);
    expect(rows.map(outcome)).toEqual([
      { type: 'DISPUTE_RESOLVED', milestoneId: 'm-1', milestoneVersion: 4, state: 'RELEASED' },
      {
        type: 'PAYOUT_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 4,
        currency: 'USD',
        gross: '600.00',
        fee: '63.00',
        net: '537.00',
      },
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 4,
        currency: 'USD',
        amount: '400.00',
        reason: 'DISPUTE',
      },
    ]);
    expect(detailsOf(rows[0]!)).toEqual({
      disputeId: 'd-1',
      providerAmount: '600.00',
      buyerAmount: '400.00',
      feeAmount: '63.00',
      disputeFeeAmount: '15.00',
      recoveredAmount: '0.00',
    });
    const [resolved] = (await ledgerOf(ctx.db, orderId)).filter(
      (tx) => tx.kind === 'DISPUTE_RESOLUTION',
    );
    expect(posted(resolved!)).toEqual({
      kind: 'DISPUTE_RESOLUTION',
      milestoneId: 'm-1',
      cause: resolution.eventId,
      entries: {
        [`DISPUTED_FUNDS:USD:${orderId}:m-1`]: '-100000',
        [payable(`provider-${orderId}`)]: '53700',
        [revenue()]: '6300',
        [`BUYER_REFUND_PAYABLE:USD:buyer-${orderId}`]: '40000',
      },
    });
    expect(resolved!.memo).toMatchObject({ feePolicyId: policy.policyId, disputeFee: '15.00' });
  });

  test('never takes more than the provider part: 10.00 pays the 5.00 minimum and 5.00 of the dispute fee', async () => {
    const orderId = 'o-dispute-fee-cap';
    await disputeUnderDefaultPolicy(orderId);
    const mark = await outboxMark(ctx.db, orderId);
    const resolution = resolveDispute(orderId, 'm-1', '10.00', '990.00', { disputeId: 'd-1' });
    expect((await pipeline.deliver(resolution)).verdict).toBe('APPLIED');
    const rows = await outboxOf(ctx.db, orderId, mark);
    // The fee takes the provider's whole 10.00: no PAYOUT_REQUESTED for 0.00, only the refund.
    expect(rows.map(outcome).filter((row) => row.type !== 'DISPUTE_RESOLVED')).toEqual([
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 4,
        currency: 'USD',
        amount: '990.00',
        reason: 'DISPUTE',
      },
    ]);
    expect(detailsOf(rows[0]!)).toMatchObject({ feeAmount: '10.00', disputeFeeAmount: '5.00' });
    const [resolved] = (await ledgerOf(ctx.db, orderId)).filter(
      (tx) => tx.kind === 'DISPUTE_RESOLUTION',
    );
    expect(resolved!.entries).toEqual({
      [`DISPUTED_FUNDS:USD:${orderId}:m-1`]: '-100000',
      [revenue()]: '1000',
      [`BUYER_REFUND_PAYABLE:USD:buyer-${orderId}`]: '99000',
    });
  });
});
