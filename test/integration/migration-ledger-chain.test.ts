/**
 * Migration 202612070001 on a ledger written before it: the transactions
 * already there are hashed in chain order per order (more than one page of
 * them), each order gets its head, the columns become NOT NULL, the
 * append-only trigger is on again, and the chain then verifies clean — and
 * catches an edit of a backfilled row like any other.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { runReconciliation } from '../../src/reconcile';
import { createDatabase, dropDatabases } from '../support/databases';
import { withDatabase } from '../support/endpoints';
import { currentTestRun } from '../support/run';
import { checkNamed, reconcileCorrupted } from './reconciliation-corruption';

const serverUrl = process.env.DATABASE_URL!;
const databaseName = `${currentTestRun().databasePrefix}chain_${randomBytes(3).toString('hex')}`;
let db: Knex;

beforeAll(async () => {
  await createDatabase(serverUrl, databaseName);
  db = createKnex({ DATABASE_URL: withDatabase(serverUrl, databaseName) }, { poolMax: 2 });
});
afterAll(async () => {
  await db.destroy();
  await dropDatabases(serverUrl, databaseName);
});

/** A balanced transaction as a worker before the chain wrote it. */
async function writeUnchained(trx: Knex.Transaction, orderId: string, step: number) {
  const accountId = async (code: string, kind: string) => {
    await trx('accounts').insert({ code, kind, currency: 'USD' }).onConflict('code').ignore();
    return (await trx('accounts').where({ code }).first<{ account_id: string }>('account_id'))
      .account_id;
  };
  const clearing = await accountId('GATEWAY_CLEARING:USD', 'GATEWAY_CLEARING');
  const revenue = await accountId('PLATFORM_REVENUE:USD', 'PLATFORM_REVENUE');
  const [row] = await trx('ledger_transactions')
    .insert({
      kind: 'SERVICE_FEE',
      order_id: orderId,
      cause_event_id: `fee-${orderId}-${step}`,
      cause_topic: 'escrow.payment-confirmed.v1',
      memo: { gatewayReference: `ch-${orderId}-${step}`, step },
    })
    .returning<{ transaction_id: string }[]>('transaction_id');
  await trx('ledger_entries').insert([
    {
      transaction_id: row!.transaction_id,
      account_id: clearing,
      currency: 'USD',
      amount_minor: -100 - step,
    },
    {
      transaction_id: row!.transaction_id,
      account_id: revenue,
      currency: 'USD',
      amount_minor: 100 + step,
    },
  ]);
}

test('the ledger written before the chain is chained in order, per order, and verifies clean', async () => {
  for (;;) {
    const [, pending] = (await db.migrate.list()) as [unknown, string[]];
    if (pending[0]!.startsWith('202612070001')) break;
    await db.migrate.up();
  }
  // Interleaved across orders, 2,500 in all: more than one page of the backfill.
  await db.transaction(async (trx) => {
    for (let step = 0; step < 500; step += 1)
      for (const orderId of ['o-a', 'o-b', 'o-c', 'o-d', 'o-e'])
        await writeUnchained(trx, orderId, step);
  });
  await db.migrate.latest();

  const heads = await db('ledger_chain_heads')
    .orderBy('order_id')
    .select<{ order_id: string; length: string }[]>('order_id', db.raw('length::text'));
  expect(heads).toEqual(
    ['o-a', 'o-b', 'o-c', 'o-d', 'o-e'].map((order_id) => ({ order_id, length: '500' })),
  );
  const unhashed = await db('ledger_transactions').whereNull('hash').count<{ count: string }[]>();
  expect(unhashed[0]!.count).toBe('0');
  const report = await runReconciliation(db);
  expect(checkNamed(report, 'ledger_chain_intact')).toMatchObject({ status: 'ok', count: 0 });

  // The append-only trigger is on again, for the owner too.
  await expect(db.raw(`UPDATE ledger_transactions SET kind = 'OTHER'`)).rejects.toThrow(
    /append-only/,
  );
  const [victim] = await db('ledger_transactions')
    .where({ order_id: 'o-c' })
    .orderBy('transaction_id')
    .offset(250)
    .limit(1)
    .select<{ transaction_id: string }[]>('transaction_id');
  const corrupted = await reconcileCorrupted(db, async (trx) => {
    await trx.raw(
      `UPDATE ledger_transactions SET cause_event_id = 'forged' WHERE transaction_id = ?`,
      [victim!.transaction_id],
    );
  });
  expect(checkNamed(corrupted, 'ledger_chain_intact').examples).toEqual([
    expect.objectContaining({
      refs: expect.objectContaining({ transactionId: String(victim!.transaction_id) }) as unknown,
    }),
  ]);
}, 120_000);
