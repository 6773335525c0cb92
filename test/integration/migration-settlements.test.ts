/**
 * Migration 202612060001 on a database with payouts and refunds asked for
 * before it: each PAYOUT_REQUESTED and REFUND_REQUESTED the outbox still
 * holds becomes a REQUESTED disbursement with its amounts (a payout from
 * before receivables, without recoveredAmount, recovered zero), so a
 * settlement sent after the upgrade finds its request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { createDatabase, dropDatabases } from '../support/databases';
import { withDatabase } from '../support/endpoints';
import { currentTestRun } from '../support/run';

const serverUrl = process.env.DATABASE_URL!;
const databaseName = `${currentTestRun().databasePrefix}sett_${randomBytes(3).toString('hex')}`;
let db: Knex;

beforeAll(async () => {
  await createDatabase(serverUrl, databaseName);
  db = createKnex({ DATABASE_URL: withDatabase(serverUrl, databaseName) }, { poolMax: 2 });
});
afterAll(async () => {
  await db.destroy();
  await dropDatabases(serverUrl, databaseName);
});

test('requests the outbox still holds are recorded as REQUESTED disbursements', async () => {
  for (;;) {
    const [, pending] = (await db.migrate.list()) as [unknown, string[]];
    if (pending[0]!.startsWith('202612060001')) break;
    await db.migrate.up();
  }
  await db('orders').insert({
    order_id: 'o-old',
    buyer_id: 'b-old',
    provider_id: 'p-old',
    currency: 'USD',
    state: 'OPEN',
    opened_event_id: 'open-o-old',
    opened_at: new Date('2026-11-30T10:00:00Z'),
  });
  const payout = randomUUID();
  const refund = randomUUID();
  const common = { orderId: 'o-old', milestoneId: 'm-1', causeEventId: 'e-1', currency: 'USD' };
  await db('outbox').insert([
    {
      outcome_id: payout,
      topic: 'escrow.payouts.v1',
      message_key: 'o-old',
      type: 'PAYOUT_REQUESTED',
      payload: {
        ...common,
        outcomeId: payout,
        type: 'PAYOUT_REQUESTED',
        providerId: 'p-old',
        grossAmount: '1000.00',
        feeAmount: '100.00',
        netAmount: '900.00',
        ledgerTransactionId: '7',
      },
      published_at: db.fn.now(),
    },
    {
      outcome_id: refund,
      topic: 'escrow.refunds.v1',
      message_key: 'o-old',
      type: 'REFUND_REQUESTED',
      payload: {
        ...common,
        outcomeId: refund,
        type: 'REFUND_REQUESTED',
        buyerId: 'b-old',
        amount: '250.50',
        reason: 'REQUESTED',
        gatewayReferences: ['ch-1'],
        ledgerTransactionId: '8',
      },
    },
    {
      outcome_id: randomUUID(),
      topic: 'escrow.events.v1',
      message_key: 'o-old',
      type: 'MILESTONE_RELEASED',
      payload: { ...common, type: 'MILESTONE_RELEASED' },
    },
  ]);
  await db.migrate.latest();
  const rows = await db('disbursements')
    .orderBy('kind')
    .select(
      'outcome_id',
      'kind',
      'party_id',
      'state',
      db.raw('amount_minor::text'),
      db.raw('gross_minor::text'),
      db.raw('fee_minor::text'),
      db.raw('recovered_minor::text'),
      'refund_reason',
      db.raw('root_outcome_id::text'),
    );
  expect(rows).toEqual([
    {
      outcome_id: payout,
      kind: 'PAYOUT',
      party_id: 'p-old',
      state: 'REQUESTED',
      amount_minor: '90000',
      gross_minor: '100000',
      fee_minor: '10000',
      recovered_minor: '0',
      refund_reason: null,
      root_outcome_id: payout,
    },
    {
      outcome_id: refund,
      kind: 'REFUND',
      party_id: 'b-old',
      state: 'REQUESTED',
      amount_minor: '25050',
      gross_minor: null,
      fee_minor: null,
      recovered_minor: null,
      refund_reason: 'REQUESTED',
      root_outcome_id: refund,
    },
  ]);
}, 60_000);
