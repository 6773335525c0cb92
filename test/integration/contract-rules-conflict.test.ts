/**
 * CONTRACT.md, "Concurrency": a command that carries expectedVersion applies
 * only if the milestone is still at that version; otherwise it is rejected
 * CONFLICT and changes nothing. Proved for every such command
 * (MILESTONE_CANCELLED, DISPUTE_OPENED, DISPUTE_WITHDRAWN, DISPUTE_RESOLVED,
 * MILESTONE_REACHED, REFUND_REQUESTED) through the one path (applyEvent under
 * the order's Redlock lock, real Postgres): a version behind and a version
 * ahead are each answered CONFLICT with the milestone, ledger and outbox left
 * as they were but for one EVENT_REJECTED; the same command at the current
 * version then applies with exact amounts; and of two such commands racing at
 * one version, exactly one takes effect.
 */
import type { EscrowCommand } from '../../src/domain/escrow';
import {
  cancelMilestone,
  dispute,
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  resolveDispute,
  useContractPipeline,
} from '../support/contract-pipeline';
import {
  balances,
  balancesOf,
  ledgerOf,
  outboxMark,
  outboxOf,
  outcome,
  posted,
  type StoredBalances,
} from '../support/contract-rows';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

interface Scenario {
  /** Brings a fresh order's m-1 to the state the command is tested in. */
  setup: (orderId: string) => EscrowCommand[];
  /** The version m-1 is at after the setup. */
  version: number;
  before: StoredBalances;
  command: (orderId: string, expectedVersion: number, eventId: string) => EscrowCommand;
  after: StoredBalances;
  outcomes: Record<string, unknown>[];
  /** The ledger transactions the applied command posts, with the accounts' codes. */
  ledger: (orderId: string, eventId: string) => ReturnType<typeof posted>[];
}

const opened = (orderId: string) => openOrder(orderId, [milestone('m-1', '1000.00')]);
const funded = (orderId: string) => [
  opened(orderId),
  payment(orderId, 'm-1', '1000.00', `ch-${orderId}`),
];
const disputed = (orderId: string) => [
  ...funded(orderId),
  dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1' }),
];
const hold = (orderId: string) => `ESCROW_HOLD:USD:${orderId}:m-1`;
const frozen = (orderId: string) => `DISPUTED_FUNDS:USD:${orderId}:m-1`;
const buyer = (orderId: string) => `BUYER_REFUND_PAYABLE:USD:buyer-${orderId}`;
const provider = (orderId: string) => `PROVIDER_PAYABLE:USD:provider-${orderId}`;
const revenue = 'PLATFORM_REVENUE:USD';
const fullyFunded = balances('FUNDED', 2, { amount: '100000', funded: '100000', held: '100000' });
const frozenFunds = balances('DISPUTED', 3, {
  amount: '100000',
  funded: '100000',
  disputed: '100000',
});

const scenarios: Record<string, Scenario> = {
  MILESTONE_CANCELLED: {
    setup: (orderId) => [opened(orderId), payment(orderId, 'm-1', '400.00', `ch-${orderId}`)],
    version: 2,
    before: balances('PARTIALLY_FUNDED', 2, { amount: '100000', funded: '40000', held: '40000' }),
    command: (orderId, expectedVersion, eventId) =>
      cancelMilestone(orderId, 'm-1', { expectedVersion, eventId }),
    after: balances('CANCELLED', 3, { amount: '100000', funded: '40000', refunded: '40000' }),
    outcomes: [
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        currency: 'USD',
        amount: '400.00',
        reason: 'CANCELLED',
      },
      { type: 'MILESTONE_CANCELLED', milestoneId: 'm-1', milestoneVersion: 3, state: 'CANCELLED' },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'REFUND',
        milestoneId: 'm-1',
        cause,
        entries: { [hold(orderId)]: '-40000', [buyer(orderId)]: '40000' },
      },
    ],
  },
  DISPUTE_OPENED: {
    setup: funded,
    version: 2,
    before: fullyFunded,
    command: (orderId, expectedVersion, eventId) =>
      dispute('DISPUTE_OPENED', orderId, 'm-1', { disputeId: 'd-1', expectedVersion, eventId }),
    after: frozenFunds,
    outcomes: [
      { type: 'DISPUTE_OPENED', milestoneId: 'm-1', milestoneVersion: 3, state: 'DISPUTED' },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'DISPUTE_FREEZE',
        milestoneId: 'm-1',
        cause,
        entries: { [hold(orderId)]: '-100000', [frozen(orderId)]: '100000' },
      },
    ],
  },
  DISPUTE_WITHDRAWN: {
    setup: disputed,
    version: 3,
    before: frozenFunds,
    command: (orderId, expectedVersion, eventId) =>
      dispute('DISPUTE_WITHDRAWN', orderId, 'm-1', { disputeId: 'd-1', expectedVersion, eventId }),
    after: balances('FUNDED', 4, { amount: '100000', funded: '100000', held: '100000' }),
    outcomes: [
      { type: 'DISPUTE_WITHDRAWN', milestoneId: 'm-1', milestoneVersion: 4, state: 'FUNDED' },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'DISPUTE_UNFREEZE',
        milestoneId: 'm-1',
        cause,
        entries: { [frozen(orderId)]: '-100000', [hold(orderId)]: '100000' },
      },
    ],
  },
  DISPUTE_RESOLVED: {
    setup: disputed,
    version: 3,
    before: frozenFunds,
    command: (orderId, expectedVersion, eventId) =>
      resolveDispute(orderId, 'm-1', '600.00', '400.00', {
        disputeId: 'd-1',
        expectedVersion,
        eventId,
      }),
    after: balances('RELEASED', 4, {
      amount: '100000',
      funded: '100000',
      released: '60000',
      fees: '6000',
      refunded: '40000',
    }),
    outcomes: [
      { type: 'DISPUTE_RESOLVED', milestoneId: 'm-1', milestoneVersion: 4, state: 'RELEASED' },
      {
        type: 'PAYOUT_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 4,
        currency: 'USD',
        gross: '600.00',
        fee: '60.00',
        net: '540.00',
      },
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 4,
        currency: 'USD',
        amount: '400.00',
        reason: 'DISPUTE',
      },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'DISPUTE_RESOLUTION',
        milestoneId: 'm-1',
        cause,
        entries: {
          [frozen(orderId)]: '-100000',
          [provider(orderId)]: '54000',
          [revenue]: '6000',
          [buyer(orderId)]: '40000',
        },
      },
    ],
  },
  MILESTONE_REACHED: {
    setup: funded,
    version: 2,
    before: fullyFunded,
    command: (orderId, expectedVersion, eventId) =>
      reached(orderId, 'm-1', { expectedVersion, eventId }),
    after: balances('RELEASED', 3, {
      amount: '100000',
      funded: '100000',
      released: '100000',
      fees: '10000',
    }),
    outcomes: [
      {
        type: 'MILESTONE_REACHED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        state: 'AWAITING_RELEASE',
      },
      { type: 'MILESTONE_RELEASED', milestoneId: 'm-1', milestoneVersion: 3, state: 'RELEASED' },
      {
        type: 'PAYOUT_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        currency: 'USD',
        gross: '1000.00',
        fee: '100.00',
        net: '900.00',
      },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'RELEASE',
        milestoneId: 'm-1',
        cause,
        entries: { [hold(orderId)]: '-100000', [provider(orderId)]: '90000', [revenue]: '10000' },
      },
    ],
  },
  REFUND_REQUESTED: {
    setup: funded,
    version: 2,
    before: fullyFunded,
    command: (orderId, expectedVersion, eventId) =>
      refund(orderId, 'm-1', '250.00', { expectedVersion, eventId }),
    after: balances('FUNDED', 3, {
      amount: '75000',
      funded: '100000',
      held: '75000',
      refunded: '25000',
    }),
    outcomes: [
      {
        type: 'REFUND_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 3,
        currency: 'USD',
        amount: '250.00',
        reason: 'REQUESTED',
      },
      { type: 'FUNDS_REFUNDED', milestoneId: 'm-1', milestoneVersion: 3, state: 'FUNDED' },
    ],
    ledger: (orderId, cause) => [
      {
        kind: 'REFUND',
        milestoneId: 'm-1',
        cause,
        entries: { [hold(orderId)]: '-25000', [buyer(orderId)]: '25000' },
      },
    ],
  },
};

async function prepare(orderId: string, scenario: Scenario) {
  for (const command of scenario.setup(orderId)) {
    expect((await pipeline.deliver(command)).verdict).toBe('APPLIED');
  }
  expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(scenario.before);
}

describe.each(Object.keys(scenarios))('%s with expectedVersion', (type) => {
  const scenario = scenarios[type]!;

  test('a version behind or ahead is CONFLICT and changes nothing; the current version applies', async () => {
    const orderId = `o-${type.toLowerCase()}`;
    await prepare(orderId, scenario);
    const ledgerBefore = await ledgerOf(ctx.db, orderId);

    for (const stale of [scenario.version - 1, scenario.version + 1]) {
      const mark = await outboxMark(ctx.db, orderId);
      const result = await pipeline.deliver(
        scenario.command(orderId, stale, `${type}-at-${stale}`),
      );
      expect(result).toMatchObject({ verdict: 'REJECTED', reason: 'CONFLICT' });
      expect(result.ledgerTransactions).toBe(0);
      expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(scenario.before);
      expect(await ledgerOf(ctx.db, orderId)).toEqual(ledgerBefore);
      const rows = await outboxOf(ctx.db, orderId, mark);
      expect(rows.map(outcome)).toEqual([
        {
          type: 'EVENT_REJECTED',
          milestoneId: 'm-1',
          milestoneVersion: scenario.version,
          reason: 'CONFLICT',
        },
      ]);
      expect(rows[0]!.payload.message).toContain(`at version ${stale}, but it is at version`);
    }

    const mark = await outboxMark(ctx.db, orderId);
    const eventId = `${type}-at-current`;
    const result = await pipeline.deliver(scenario.command(orderId, scenario.version, eventId));
    expect(result.verdict).toBe('APPLIED');
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(scenario.after);
    expect((await outboxOf(ctx.db, orderId, mark)).map(outcome)).toEqual(scenario.outcomes);
    const ledgerAfter = await ledgerOf(ctx.db, orderId);
    expect(ledgerAfter.slice(0, ledgerBefore.length)).toEqual(ledgerBefore);
    expect(ledgerAfter.slice(ledgerBefore.length).map(posted)).toEqual(
      scenario.ledger(orderId, eventId),
    );
  });

  test('two racing at the same version: exactly one takes effect, the other is CONFLICT', async () => {
    const orderId = `o-race-${type.toLowerCase()}`;
    await prepare(orderId, scenario);
    const ledgerBefore = await ledgerOf(ctx.db, orderId);
    const mark = await outboxMark(ctx.db, orderId);
    const competitors = ['first', 'second'].map((name) => `${type}-${name}`);

    const results = await Promise.all(
      competitors.map((eventId) =>
        pipeline.deliver(scenario.command(orderId, scenario.version, eventId)),
      ),
    );
    expect(results.map((r) => r.verdict).sort()).toEqual(['APPLIED', 'REJECTED']);
    const winner = competitors[results.findIndex((r) => r.verdict === 'APPLIED')]!;
    expect(results.find((r) => r.verdict === 'REJECTED')!.reason).toBe('CONFLICT');

    // One version further, one set of postings (the winner's), its outcomes and one rejection.
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(scenario.after);
    const ledgerAfter = await ledgerOf(ctx.db, orderId);
    expect(ledgerAfter.slice(ledgerBefore.length).map(posted)).toEqual(
      scenario.ledger(orderId, winner),
    );
    const added = (await outboxOf(ctx.db, orderId, mark)).map(outcome);
    expect(added.filter((row) => row.type !== 'EVENT_REJECTED')).toEqual(scenario.outcomes);
    expect(added.filter((row) => row.type === 'EVENT_REJECTED')).toEqual([
      {
        type: 'EVENT_REJECTED',
        milestoneId: 'm-1',
        milestoneVersion: scenario.version + 1,
        reason: 'CONFLICT',
      },
    ]);
  });
});
