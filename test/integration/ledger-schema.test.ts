/**
 * The ledger's guarantees hold in the database itself, whatever code writes
 * to it: append-only for every role (the tests connect as the owner), every
 * transaction nets to zero at commit, no escrow/disputed/payable balance below
 * zero, one row per gateway reference.
 */
import type { Knex } from 'knex';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

async function account(db: Knex, code: string, kind: string): Promise<number> {
  const [row] = await db('accounts')
    .insert({ code, kind, currency: 'USD' })
    .returning<{ account_id: string }[]>('account_id');
  return Number(row!.account_id);
}

async function postTransaction(db: Knex, cause: string, entries: [number, number][]) {
  return db.transaction(async (trx) => {
    const [tx] = await trx('ledger_transactions')
      // The hash chain is src/ledger's (test/integration/ledger-chain.test.ts); placeholders here.
      .insert({
        kind: 'TEST',
        cause_event_id: cause,
        cause_topic: 'test',
        previous_hash: '',
        hash: '0'.repeat(64),
      })
      .returning<{ transaction_id: string }[]>('transaction_id');
    let version = Date.now();
    for (const [accountId, amount] of entries) {
      await trx('ledger_entries').insert({
        transaction_id: tx!.transaction_id,
        account_id: accountId,
        currency: 'USD',
        amount_minor: amount,
        balance_after_minor: 0,
        account_version: version++,
      });
    }
    return tx!.transaction_id;
  });
}

let clearing: number;
let hold: number;
let committed: string;

beforeAll(async () => {
  clearing = await account(ctx.db, 'GATEWAY_CLEARING:USD', 'GATEWAY_CLEARING');
  hold = await account(ctx.db, 'ESCROW_HOLD:USD:o-1:m-1', 'ESCROW_HOLD');
  committed = await postTransaction(ctx.db, 'evt-1', [
    [clearing, -10000],
    [hold, 10000],
  ]);
});

test('a balanced transaction commits', async () => {
  const entries = await ctx.db('ledger_entries').where({ transaction_id: committed });
  expect(entries.map((entry: { amount_minor: string }) => entry.amount_minor).sort()).toEqual([
    '-10000',
    '10000',
  ]);
});

test('a transaction that does not net to zero is refused at commit and leaves nothing', async () => {
  await expect(postTransaction(ctx.db, 'evt-unbalanced', [[hold, 500]])).rejects.toThrow(
    /does not net to zero in USD: it is off by 500 minor units/,
  );
  expect(await ctx.db('ledger_transactions').where({ cause_event_id: 'evt-unbalanced' })).toEqual(
    [],
  );
});

test.each([
  ['UPDATE', 'UPDATE ledger_entries SET amount_minor = 1'],
  ['DELETE', 'DELETE FROM ledger_entries'],
  ['TRUNCATE', 'TRUNCATE ledger_entries CASCADE'],
  ['UPDATE', 'UPDATE ledger_transactions SET kind = $$OTHER$$'],
  ['DELETE', 'DELETE FROM ledger_transactions'],
  ['TRUNCATE', 'TRUNCATE ledger_transactions CASCADE'],
])('%s on the ledger fails even for the owner: %s', async (operation, statement) => {
  await expect(ctx.db.raw(statement)).rejects.toThrow(
    new RegExp(
      `the ledger is append-only: ${operation} on ledger_(entries|transactions) is refused`,
    ),
  );
  expect(await ctx.db('ledger_entries').count({ n: '*' })).toEqual([{ n: '2' }]);
});

test.each(['ESCROW_HOLD', 'DISPUTED_FUNDS', 'PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE'])(
  'a %s balance cannot go below zero',
  async (kind) => {
    const id = await account(ctx.db, `${kind}:USD:negative`, kind);
    await expect(
      ctx.db('accounts').where({ account_id: id }).update({ balance_minor: -1 }),
    ).rejects.toThrow(/violates check constraint "accounts_balance_floor"/);
  },
);

test('a PROVIDER_RECEIVABLE balance cannot go above zero (more recovered than charged back)', async () => {
  const id = await account(ctx.db, 'PROVIDER_RECEIVABLE:USD:p-over', 'PROVIDER_RECEIVABLE');
  await ctx.db('accounts').where({ account_id: id }).update({ balance_minor: -500 });
  await expect(
    ctx.db('accounts').where({ account_id: id }).update({ balance_minor: 1 }),
  ).rejects.toThrow(/violates check constraint "accounts_balance_floor"/);
});

test('one payment row per (gateway, gateway reference)', async () => {
  const payment = {
    gateway: 'stripe',
    gateway_reference: 'ch_1',
    event_id: 'e-1',
    order_id: 'o-1',
    milestone_id: 'm-1',
    kind: 'DEPOSIT',
    currency: 'USD',
    amount_minor: 100,
    confirmed_at: new Date('2026-01-01T00:00:00Z'),
    payload_hash: 'h',
    status: 'PENDING_ORDER',
  };
  await ctx.db('payments').insert(payment);
  await expect(ctx.db('payments').insert({ ...payment, event_id: 'e-2' })).rejects.toThrow(
    /duplicate key value violates unique constraint "payments_gateway_gateway_reference_key"/,
  );
});
