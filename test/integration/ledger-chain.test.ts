/**
 * The ledger's hash chain on real Postgres: written by the one path for a
 * story of several orders and verified whole by reconciliation; a row edited
 * as superuser with the triggers off (an amount, a time, a memo), a
 * transaction removed from the middle or the end of an order's chain, and a
 * head left behind are each found by ledger_chain_intact alone, naming the
 * transaction; and the chain survives concurrent writers of one order that
 * do not hold its lock — a write built on a head that moved is refused
 * (ChainHeadMoved, retryable) and done again, so no fork and no gap.
 */
import type { Knex } from 'knex';
import { accounts, type TransactionDraft } from '../../src/domain/escrow';
import { money } from '../../src/domain/money';
import { ChainHeadMoved } from '../../src/ledger/errors';
import { postTransactions } from '../../src/ledger/post-transactions';
import { runReconciliation } from '../../src/reconcile';
import {
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  useContractPipeline,
} from '../support/contract-pipeline';
import { useTestContext } from '../support/test-context';
import { checkNamed, failingChecks, reconcileCorrupted } from './reconciliation-corruption';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

beforeAll(async () => {
  for (const orderId of ['o-chain-1', 'o-chain-2', 'o-chain-3']) {
    await pipeline.deliver(
      openOrder(orderId, [milestone('m-1', '500.00'), milestone('m-2', '300.00')]),
    );
    await pipeline.deliver(payment(orderId, 'm-1', '500.00', `ch-${orderId}-1`));
    await pipeline.deliver(payment(orderId, 'm-2', '300.00', `ch-${orderId}-2`));
    await pipeline.deliver(refund(orderId, 'm-2', '100.00'));
    await pipeline.deliver(reached(orderId, 'm-1'));
  }
});

const chainRows = (db: Knex | Knex.Transaction, orderId: string) =>
  db('ledger_transactions')
    .where({ order_id: orderId })
    .orderByRaw('ledger_transactions.transaction_id')
    .select<{ transaction_id: string; previous_hash: string; hash: string }[]>(
      db.raw('transaction_id::text'),
      'previous_hash',
      'hash',
    );

test('the one path chains every transaction of an order to the one before, and the heads name the ends', async () => {
  for (const orderId of ['o-chain-1', 'o-chain-2', 'o-chain-3']) {
    const rows = await chainRows(ctx.db, orderId);
    expect(rows.length).toBe(4); // two fundings, a refund, a release
    expect(rows[0]!.previous_hash).toBe('');
    for (let index = 1; index < rows.length; index += 1)
      expect(rows[index]!.previous_hash).toBe(rows[index - 1]!.hash);
    expect(new Set(rows.map((row) => row.hash)).size).toBe(rows.length);
    const head = await ctx
      .db('ledger_chain_heads')
      .where({ order_id: orderId })
      .first<{ hash: string; length: string }>('hash', 'length');
    expect(head).toEqual({ hash: rows[3]!.hash, length: '4' });
  }
  const report = await runReconciliation(ctx.db);
  expect(checkNamed(report, 'ledger_chain_intact')).toMatchObject({ status: 'ok', count: 0 });
});

/** The transaction ids of an order's chain, oldest first. */
const idsOf = async (orderId: string) =>
  (await chainRows(ctx.db, orderId)).map((row) => row.transaction_id);

test('an amount changed as superuser with the triggers off is named by the chain', async () => {
  const [, second] = await idsOf('o-chain-2');
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    // Both lines of the second funding shifted by one cent: it still nets to zero.
    await trx.raw(
      `UPDATE ledger_entries SET amount_minor = amount_minor + CASE WHEN amount_minor > 0
         THEN 1 ELSE -1 END WHERE transaction_id = ?`,
      [second!],
    );
    await trx.raw(
      `UPDATE accounts a SET balance_minor = a.balance_minor + 1
       FROM ledger_entries e WHERE e.account_id = a.account_id AND e.transaction_id = ?
         AND a.maintains_balance`,
      [second!],
    );
    await trx.raw(
      `UPDATE ledger_entries SET balance_after_minor = balance_after_minor + 1
       WHERE transaction_id = ? AND balance_after_minor IS NOT NULL`,
      [second!],
    );
  });
  const check = checkNamed(report, 'ledger_chain_intact');
  expect(check.count).toBe(1);
  expect(check.examples[0]).toMatchObject({
    refs: { transactionId: second, orderId: 'o-chain-2' },
    problem: expect.stringContaining('its content no longer matches its hash') as string,
  });
  // The amounts' other checks see it too; the chain names the transaction itself.
  expect(failingChecks(report)).toContain('ledger_chain_intact');
});

test('changed times and memos are found, listed lowest transaction id first', async () => {
  const [firstOfOne] = await idsOf('o-chain-1');
  const [, , refundOfThree] = await idsOf('o-chain-3');
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    await trx.raw(
      `UPDATE ledger_transactions SET memo = memo || '{"reason":"edited"}' WHERE transaction_id = ?`,
      [refundOfThree!],
    );
    await trx.raw(
      `UPDATE ledger_transactions SET created_at = created_at - interval '1 microsecond'
       WHERE transaction_id = ?`,
      [firstOfOne!],
    );
  });
  const check = checkNamed(report, 'ledger_chain_intact');
  expect(check.examples.map((example) => example.refs.transactionId)).toEqual(
    [firstOfOne, refundOfThree].sort((a, b) => Number(BigInt(a!) - BigInt(b!))),
  );
  // Only this check changes its verdict (a clean run of this story may list payouts
  // still unsettled: the story's clock is months before the reconciliation's).
  const clean = failingChecks(await runReconciliation(ctx.db));
  expect(failingChecks(report).filter((name) => !clean.includes(name))).toEqual([
    'ledger_chain_intact',
  ]);
});

test('a transaction removed from the middle breaks the next link; one removed from the end shows at the head', async () => {
  const [, middle, next, last] = await idsOf('o-chain-1');
  const [, , , lastOfTwo] = await idsOf('o-chain-2');
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    for (const id of [middle, lastOfTwo]) {
      await trx('ledger_entries').where({ transaction_id: id }).delete();
      await trx('ledger_transactions').where({ transaction_id: id }).delete();
    }
  });
  const problems = checkNamed(report, 'ledger_chain_intact').examples.map((example) => [
    example.refs.transactionId,
    example.problem.split(':')[0],
  ]);
  const [, , thirdOfTwo] = await idsOf('o-chain-2');
  expect(problems).toEqual([
    [next, expect.stringMatching(/^its previous_hash .* is not the hash of order o-chain-1's/)],
    // The middle one is missing from the count too.
    [
      last,
      expect.stringMatching(
        /^its head says 4 transaction\(s\) ending in .*, but the ledger holds 3/,
      ),
    ],
    [
      thirdOfTwo,
      expect.stringMatching(
        /^its head says 4 transaction\(s\) ending in .*, but the ledger holds 3/,
      ),
    ],
  ]);
});

test('a head left for an order whose transactions are all gone is found', async () => {
  const report = await reconcileCorrupted(ctx.db, async (trx) => {
    const ids = (await chainRows(trx, 'o-chain-3')).map((row) => row.transaction_id);
    await trx('ledger_entries').whereIn('transaction_id', ids).delete();
    await trx('ledger_transactions').whereIn('transaction_id', ids).delete();
  });
  expect(checkNamed(report, 'ledger_chain_intact').examples).toEqual([
    expect.objectContaining({
      refs: { orderId: 'o-chain-3' },
      problem: 'its head says 4 transaction(s), but the ledger holds none: they were removed',
    }),
  ]);
});

/** A service-fee-like transaction of an order: clearing and revenue only, so no account lock. */
const feeDraft = (orderId: string, minor: bigint): TransactionDraft => ({
  kind: 'FUNDING',
  orderId,
  milestoneId: null,
  postings: [
    { account: accounts.gatewayClearing('USD'), amount: money('USD', -minor) },
    { account: accounts.platformRevenue('USD'), amount: money('USD', minor) },
  ],
  memo: { writer: 'race' },
});

test('a write built on a head another writer moved is refused ChainHeadMoved, and nothing of it stays', async () => {
  for (const orderId of ['o-race-new', 'o-race-old']) {
    if (orderId === 'o-race-old')
      await ctx.db.transaction((trx) =>
        postTransactions(trx, [feeDraft(orderId, 1n)], { eventId: 'seed', topic: 't' }),
      );
    const first = await ctx.db.transaction();
    const second = await ctx.db.transaction();
    try {
      await postTransactions(first, [feeDraft(orderId, 2n)], { eventId: 'first', topic: 't' });
      // The second read the same head; its write waits for the first's row, then finds it moved.
      const refused = postTransactions(second, [feeDraft(orderId, 3n)], {
        eventId: 'second',
        topic: 't',
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await first.commit();
      await expect(refused).rejects.toBeInstanceOf(ChainHeadMoved);
      await expect(refused).rejects.toMatchObject({ retryable: true });
    } finally {
      if (!second.isCompleted()) await second.rollback();
    }
    expect((await chainRows(ctx.db, orderId)).length).toBe(orderId === 'o-race-old' ? 2 : 1);
  }
});

test('eight writers racing on three orders without their locks, retrying refusals: no fork, no gap', async () => {
  const orders = ['o-many-a', 'o-many-b', 'o-many-c'];
  let refusals = 0;
  const writer = async (writerIndex: number) => {
    for (let step = 0; step < 12; step += 1) {
      const orderId = orders[(writerIndex + step) % orders.length]!;
      for (;;) {
        try {
          await ctx.db.transaction((trx) =>
            postTransactions(trx, [feeDraft(orderId, BigInt(writerIndex * 100 + step + 1))], {
              eventId: `w${writerIndex}-${step}`,
              topic: 't',
            }),
          );
          break;
        } catch (error) {
          if (!(error instanceof ChainHeadMoved)) throw error;
          refusals += 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, index) => writer(index)));
  let total = 0;
  for (const orderId of orders) {
    const rows = await chainRows(ctx.db, orderId);
    total += rows.length;
    expect(rows[0]!.previous_hash).toBe('');
    for (let index = 1; index < rows.length; index += 1)
      expect(rows[index]!.previous_hash).toBe(rows[index - 1]!.hash);
    const head = await ctx
      .db('ledger_chain_heads')
      .where({ order_id: orderId })
      .first<{ hash: string; length: string }>('hash', 'length');
    expect(head).toEqual({ hash: rows[rows.length - 1]!.hash, length: String(rows.length) });
  }
  expect(total).toBe(8 * 12);
  const report = await runReconciliation(ctx.db);
  expect(checkNamed(report, 'ledger_chain_intact')).toMatchObject({ status: 'ok', count: 0 });
  // The race was real: at least one write had to be done again.
  console.log(`racing writers: ${refusals} writes refused ChainHeadMoved and done again`);
  expect(refusals).toBeGreaterThan(0);
});
