/**
 * The ledger service and the order store on the real Postgres: decisions of
 * the pure domain posted atomically with their cause, typed refusals that
 * leave nothing written, running balances under concurrent writers, and the
 * version guard that lets only one of two racing commands take effect.
 */
import type { Knex } from 'knex';
import {
  decide,
  type DecisionContext,
  type EscrowCommand,
  type TransactionDraft,
} from '../../src/domain/escrow';
import { accounts } from '../../src/domain/escrow';
import { defaultFeePolicy } from '../../src/domain/fees';
import { money, zero } from '../../src/domain/money';
import { accountBalance, movementsByAccount } from '../../src/ledger/balances';
import { LedgerError } from '../../src/ledger/errors';
import { postTransactions } from '../../src/ledger/post-transactions';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { PipelineSettings } from '../../src/pipeline/events';
import { writeMilestones } from '../../src/store/order-writes';
import { type StoredOrder, VersionConflict } from '../../src/store/orders';
import { readStored } from '../support/stored-order';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const now = new Date('2026-05-01T12:00:00Z');
const settings: PipelineSettings = { topicPrefix: '', defaultFeeRate: '0.10', now: () => now };

function contextFor(stored: StoredOrder): DecisionContext {
  return {
    now,
    order: stored.order,
    milestones: stored.milestones,
    feePolicy: defaultFeePolicy('0.10'),
    providerVolume: zero(stored.order?.currency ?? 'USD'),
    fundingReferences: {},
  };
}

/** Through the pipeline's unit of work, as the worker applies an event. */
const apply = (command: EscrowCommand) =>
  applyEvent(ctx.db, settings, {
    topic: 'test',
    partition: null,
    offset: null,
    occurredAt: now,
    command,
  });

const open = (orderId: string): EscrowCommand => ({
  type: 'ORDER_OPENED',
  eventId: `open-${orderId}`,
  orderId,
  buyerId: 'buyer-1',
  providerId: 'provider-1',
  currency: 'USD',
  milestones: [
    {
      milestoneId: 'm-1',
      sequence: 1,
      amount: '1000.00',
      releaseCondition: 'ANY',
      inspectionPeriodSeconds: 0,
    },
  ],
});
const pay = (orderId: string, amount: string, reference: string): EscrowCommand => ({
  type: 'PAYMENT_CONFIRMED',
  eventId: `pay-${reference}`,
  gateway: 'stripe',
  gatewayReference: reference,
  orderId,
  milestoneId: 'm-1',
  kind: 'DEPOSIT',
  amount,
  currency: 'USD',
});

test('a funding and a release are posted with their cause, balances and the release record', async () => {
  await apply(open('o-flow'));
  const funded = await apply(pay('o-flow', '1000.00', 'ch-flow'));
  expect(funded.ledgerTransactions).toBe(1);
  const released = await apply({
    type: 'MILESTONE_REACHED',
    eventId: 'reached-flow',
    orderId: 'o-flow',
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
  });
  expect(released).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 1 });

  const causes = await ctx
    .db('ledger_transactions')
    .where({ order_id: 'o-flow' })
    .orderBy('transaction_id')
    .select('kind', 'cause_event_id');
  expect(causes).toEqual([
    { kind: 'FUNDING', cause_event_id: 'pay-ch-flow' },
    { kind: 'RELEASE', cause_event_id: 'reached-flow' },
  ]);
  expect((await accountBalance(ctx.db, 'PROVIDER_PAYABLE:USD:provider-1'))?.balanceMinor).toBe(
    90000n,
  );
  expect((await accountBalance(ctx.db, 'ESCROW_HOLD:USD:o-flow:m-1'))?.balanceMinor).toBe(0n);
  const movements = await movementsByAccount(ctx.db, { orderId: 'o-flow', milestoneId: 'm-1' });
  expect(Object.fromEntries(movements.map((m) => [m.kind, m.balanceMinor]))).toEqual({
    GATEWAY_CLEARING: -100000n,
    ESCROW_HOLD: 0n,
    PROVIDER_PAYABLE: 90000n,
    PLATFORM_REVENUE: 10000n,
  });
  const releaseTransaction = await ctx
    .db('ledger_transactions')
    .where({ order_id: 'o-flow', kind: 'RELEASE' })
    .first<{ transaction_id: string }>('transaction_id');
  const release: unknown = await ctx
    .db('releases')
    .where({ transaction_id: releaseTransaction.transaction_id })
    .first();
  expect(release).toMatchObject({
    provider_id: 'provider-1',
    gross_minor: '100000',
    fee_minor: '10000',
  });
  const stored = await readStored(ctx.db, 'o-flow');
  expect(stored.milestones[0]).toMatchObject({ state: 'RELEASED', version: 3 });
});

test('an unbalanced transaction is refused with LEDGER_UNBALANCED before anything is written', async () => {
  const draft: TransactionDraft = {
    kind: 'FUNDING',
    orderId: 'o-x',
    milestoneId: 'm-1',
    postings: [
      { account: accounts.gatewayClearing('USD'), amount: money('USD', -100n) },
      { account: accounts.escrowHold('USD', 'o-x', 'm-1'), amount: money('USD', 99n) },
    ],
    memo: {},
  };
  const before = await ctx.db('ledger_entries').count({ n: '*' });
  await expect(
    ctx.db.transaction((trx) => postTransactions(trx, [draft], { eventId: 'e', topic: 't' })),
  ).rejects.toMatchObject({
    code: 'LEDGER_UNBALANCED',
    message: expect.stringContaining('off by -0.01') as string,
  });
  expect(await ctx.db('ledger_entries').count({ n: '*' })).toEqual(before);
});

test('a transaction balanced in its first currency but not in a second is refused, naming the second', async () => {
  const draft: TransactionDraft = {
    kind: 'FUNDING',
    orderId: 'o-x2',
    milestoneId: 'm-1',
    postings: [
      { account: accounts.gatewayClearing('USD'), amount: money('USD', -100n) },
      { account: accounts.escrowHold('USD', 'o-x2', 'm-1'), amount: money('USD', 100n) },
      { account: accounts.gatewayClearing('EUR'), amount: money('EUR', -100n) },
      { account: accounts.escrowHold('EUR', 'o-x2', 'm-1'), amount: money('EUR', 101n) },
    ],
    memo: {},
  };
  await expect(
    ctx.db.transaction((trx) => postTransactions(trx, [draft], { eventId: 'e', topic: 't' })),
  ).rejects.toMatchObject({
    code: 'LEDGER_UNBALANCED',
    message: expect.stringContaining('does not net to zero in EUR: off by 0.01') as string,
  });
  expect(await ctx.db('ledger_transactions').where({ order_id: 'o-x2' })).toEqual([]);
});

test('a transaction that would take an escrow hold below zero is refused with LEDGER_NEGATIVE_BALANCE', async () => {
  const draft: TransactionDraft = {
    kind: 'REFUND',
    orderId: 'o-empty',
    milestoneId: 'm-1',
    postings: [
      { account: accounts.escrowHold('USD', 'o-empty', 'm-1'), amount: money('USD', -1n) },
      { account: accounts.buyerRefundPayable('USD', 'buyer-1'), amount: money('USD', 1n) },
    ],
    memo: {},
  };
  const refused = ctx.db.transaction((trx) =>
    postTransactions(trx, [draft], { eventId: 'e', topic: 't' }),
  );
  await expect(refused).rejects.toBeInstanceOf(LedgerError);
  await expect(refused).rejects.toMatchObject({ code: 'LEDGER_NEGATIVE_BALANCE' });
  expect(await ctx.db('ledger_transactions').where({ order_id: 'o-empty' })).toEqual([]);
});

test('two commands racing on one milestone at the same version: one applies, the other sees the new version', async () => {
  await apply(open('o-race'));
  await apply(pay('o-race', '1000.00', 'ch-race'));
  // Whatever other tests of this file released before: the race must add nothing to it.
  const payableBefore = (await accountBalance(ctx.db, 'PROVIDER_PAYABLE:USD:provider-1'))
    ?.balanceMinor;
  const refund = (eventId: string): EscrowCommand => ({
    type: 'REFUND_REQUESTED',
    eventId,
    orderId: 'o-race',
    milestoneId: 'm-1',
    amount: '600.00',
    reason: 'REQUESTED',
    expectedVersion: 2,
  });
  const release: EscrowCommand = {
    type: 'MILESTONE_REACHED',
    eventId: 'reach-race',
    orderId: 'o-race',
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
    expectedVersion: 2,
  };

  // Optimistic path: both read version 2 without a row lock; the second write finds no row at version 2.
  const first = await ctx.db.transaction();
  const second = await ctx.db.transaction();
  const changes = (read: StoredOrder, decision: ReturnType<typeof decide>) =>
    decision.milestones.map((milestone) => ({
      milestone,
      readVersion: read.milestones.find((m) => m.milestoneId === milestone.milestoneId)!.version,
    }));
  try {
    const readByFirst = await readStored(first, 'o-race');
    const readBySecond = await readStored(second, 'o-race');
    const refundDecision = decide(refund('refund-race'), contextFor(readByFirst));
    const releaseDecision = decide(release, contextFor(readBySecond));
    await writeMilestones(first, changes(readByFirst, refundDecision));
    await postTransactions(first, refundDecision.transactions, {
      eventId: 'refund-race',
      topic: 'test',
    });
    await first.commit();
    await expect(
      writeMilestones(second, changes(readBySecond, releaseDecision)),
    ).rejects.toBeInstanceOf(VersionConflict);
    // Had it written anyway, the ledger would have refused to take the hold below zero.
    await expect(
      postTransactions(second, releaseDecision.transactions, {
        eventId: 'reach-race',
        topic: 'test',
      }),
    ).rejects.toMatchObject({ code: 'LEDGER_NEGATIVE_BALANCE' });
  } finally {
    await second.rollback().catch(() => undefined);
  }
  // Decided again on what is stored now, the loser is rejected with CONFLICT.
  const retried = await apply(release);
  expect(retried).toMatchObject({ verdict: 'REJECTED', reason: 'CONFLICT' });
  const stored = await readStored(ctx.db, 'o-race');
  expect(stored.milestones[0]).toMatchObject({ state: 'FUNDED', version: 3 });
  expect((await accountBalance(ctx.db, 'ESCROW_HOLD:USD:o-race:m-1'))?.balanceMinor).toBe(40000n);
  expect((await accountBalance(ctx.db, 'PROVIDER_PAYABLE:USD:provider-1'))?.balanceMinor).toBe(
    payableBefore,
  );
});

test('with row locks, the second of two concurrent commands waits and then sees the new version', async () => {
  await apply(open('o-lock'));
  await apply(pay('o-lock', '1000.00', 'ch-lock'));
  const refund = (eventId: string): EscrowCommand => ({
    type: 'REFUND_REQUESTED',
    eventId,
    orderId: 'o-lock',
    milestoneId: 'm-1',
    amount: '100.00',
    reason: 'REQUESTED',
    expectedVersion: 2,
  });
  const results = await Promise.all([apply(refund('r-a')), apply(refund('r-b'))]);
  const statuses = results.map((r) => r.verdict).sort();
  expect(statuses).toEqual(['APPLIED', 'REJECTED']);
  expect(results.find((r) => r.verdict === 'REJECTED')!.reason).toBe('CONFLICT');
  expect((await accountBalance(ctx.db, 'ESCROW_HOLD:USD:o-lock:m-1'))?.balanceMinor).toBe(90000n);
});

test('many concurrent writers on the same accounts neither deadlock nor lose an update', async () => {
  const a = accounts.escrowHold('USD', 'o-hot', 'a');
  const b = accounts.escrowHold('USD', 'o-hot', 'b');
  const seed: TransactionDraft = {
    kind: 'FUNDING',
    orderId: 'o-hot',
    milestoneId: null,
    memo: {},
    postings: [
      { account: accounts.gatewayClearing('USD'), amount: money('USD', -2000n) },
      { account: a, amount: money('USD', 1000n) },
      { account: b, amount: money('USD', 1000n) },
    ],
  };
  await ctx.db.transaction((trx) =>
    postTransactions(trx, [seed], { eventId: 'seed', topic: 'test' }),
  );
  // Half move a → b, half b → a: postings name the accounts in opposite orders.
  const move = (index: number): TransactionDraft => ({
    kind: 'REFUND',
    orderId: 'o-hot',
    milestoneId: null,
    memo: {},
    postings:
      index % 2 === 0
        ? [
            { account: a, amount: money('USD', -7n) },
            { account: b, amount: money('USD', 7n) },
          ]
        : [
            { account: b, amount: money('USD', -5n) },
            { account: a, amount: money('USD', 5n) },
          ],
  });
  await Promise.all(
    Array.from({ length: 40 }, (_, index) =>
      ctx.db.transaction((trx: Knex.Transaction) =>
        postTransactions(trx, [move(index)], { eventId: `move-${index}`, topic: 'test' }),
      ),
    ),
  );
  expect((await accountBalance(ctx.db, 'ESCROW_HOLD:USD:o-hot:a'))?.balanceMinor).toBe(
    1000n - 20n * 7n + 20n * 5n,
  );
  expect((await accountBalance(ctx.db, 'ESCROW_HOLD:USD:o-hot:b'))?.balanceMinor).toBe(
    1000n + 20n * 7n - 20n * 5n,
  );
  const versions = await ctx
    .db('ledger_entries as e')
    .join('accounts as x', 'x.account_id', 'e.account_id')
    .where('x.code', 'ESCROW_HOLD:USD:o-hot:a')
    .orderBy('account_version')
    .pluck('account_version');
  expect(versions.map(Number)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
});

test('a full refund is stored: the milestone is REFUNDED at amount zero, its intent kept', async () => {
  await apply(open('o-full'));
  await apply(pay('o-full', '1000.00', 'ch-full'));
  const decision = await apply({
    type: 'REFUND_REQUESTED',
    eventId: 'refund-full',
    orderId: 'o-full',
    milestoneId: 'm-1',
    amount: '1000.00',
    reason: 'REQUESTED',
  });
  expect(decision.verdict).toBe('APPLIED');
  const row: unknown = await ctx.db('milestones').where({ order_id: 'o-full' }).first();
  expect(row).toMatchObject({
    state: 'REFUNDED',
    amount_minor: '0',
    original_amount_minor: '100000',
    refunded_minor: '100000',
  });
});
