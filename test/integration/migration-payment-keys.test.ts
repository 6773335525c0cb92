/**
 * Migration 202612040001 on a database written before it: payments stored
 * under the old `payment:<gateway>:<reference>` key move to the JSON key the
 * worker now computes, kept events follow their inbox row, and rows without
 * a payments row stay as they were. Then a callback retried across the
 * upgrade is still a duplicate (its stored hash is of the old substance).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex } from '../../src/db/knex';
import { dedupeKey, type EscrowCommand, substanceBeforeVersion2 } from '../../src/domain/escrow';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { PipelineSettings } from '../../src/pipeline/events';
import { createDatabase, dropDatabases } from '../support/databases';
import { withDatabase } from '../support/endpoints';
import { currentTestRun } from '../support/run';

const serverUrl = process.env.DATABASE_URL!;
const databaseName = `${currentTestRun().databasePrefix}migr_${randomBytes(3).toString('hex')}`;
let db: Knex;

beforeAll(async () => {
  await createDatabase(serverUrl, databaseName);
  db = createKnex({ DATABASE_URL: withDatabase(serverUrl, databaseName) }, { poolMax: 2 });
});
afterAll(async () => {
  await db.destroy();
  await dropDatabases(serverUrl, databaseName);
});

type Payment = Extract<EscrowCommand, { type: 'PAYMENT_CONFIRMED' }>;
const payment = (gateway: string, gatewayReference: string): Payment => ({
  type: 'PAYMENT_CONFIRMED',
  eventId: `evt-${gateway}-${gatewayReference}`,
  gateway,
  gatewayReference,
  orderId: 'order-m',
  milestoneId: 'm-1',
  kind: 'DEPOSIT',
  amount: '250.00',
  currency: 'USD',
});

/** The hash the worker stored before substance versions: a bare sha256 of the old substance. */
const version1Hash = (command: EscrowCommand) =>
  createHash('sha256').update(substanceBeforeVersion2(command)).digest('hex');

test('old payment keys are rewritten, kept events follow, other rows stay', async () => {
  // Every migration before this one.
  for (;;) {
    // With a custom migration source Knex lists the pending migrations as that source's names.
    const [, pending] = (await db.migrate.list()) as [unknown, string[]];
    if (pending[0]!.startsWith('202612040001')) break;
    await db.migrate.up();
  }
  const kept = payment('adyen:eu', 'psp-1');
  const applied = payment('stripe', 'ch_9');
  const oldKey = (command: Payment) => `payment:${command.gateway}:${command.gatewayReference}`;
  for (const [command, status] of [
    [kept, 'PENDING_ORDER'],
    [applied, 'APPLIED'],
  ] as const) {
    const hash = version1Hash(command);
    await db('inbox').insert({
      dedupe_key: oldKey(command),
      event_id: command.eventId,
      topic: 'escrow.payment-confirmed.v1',
      payload_hash: hash,
      outcome: status === 'APPLIED' ? 'APPLIED' : 'KEPT',
    });
    await db('payments').insert({
      gateway: command.gateway,
      gateway_reference: command.gatewayReference,
      event_id: command.eventId,
      order_id: command.orderId,
      milestone_id: command.milestoneId,
      kind: command.kind,
      currency: command.currency,
      amount_minor: '25000',
      confirmed_at: new Date('2026-11-01T00:00:00Z'),
      payload_hash: hash,
      status,
      applied_minor: status === 'APPLIED' ? '25000' : '0',
    });
  }
  await db('kept_events').insert({
    order_id: 'order-m',
    dedupe_key: oldKey(kept),
    topic: 'escrow.payment-confirmed.v1',
    command: JSON.stringify(kept),
  });
  // A refused payment never had a payments row: its key stays.
  await db('inbox').insert({
    dedupe_key: 'payment:bank:refused-1',
    event_id: 'evt-refused',
    topic: 'escrow.payment-confirmed.v1',
    payload_hash: 'x',
    outcome: 'REJECTED',
  });

  await db.migrate.latest();

  const keys = (await db('inbox').orderBy('event_id').pluck('dedupe_key')) as string[];
  expect(keys.sort()).toEqual(
    [dedupeKey(kept), dedupeKey(applied), 'payment:bank:refused-1'].sort(),
  );
  expect(dedupeKey(kept)).toBe('payment:["adyen:eu","psp-1"]');
  expect(await db('kept_events').pluck('dedupe_key')).toEqual([dedupeKey(kept)]);

  // The callback retried after the upgrade (a new eventId) is a duplicate, not a new payment...
  const settings: PipelineSettings = {
    topicPrefix: '',
    defaultFeeRate: '0.10',
    now: () => new Date('2026-12-04T00:00:00Z'),
  };
  const retried = await applyEvent(db, settings, {
    topic: 'escrow.payment-confirmed.v1',
    partition: 0,
    offset: '1',
    occurredAt: new Date('2026-12-04T00:00:00Z'),
    command: { ...applied, eventId: 'evt-retried', amount: '250.00' },
  });
  expect(retried.verdict).toBe('DUPLICATE');
  // ...and the payment whose old key collided with the kept one's is a payment of its own.
  const other = await applyEvent(db, settings, {
    topic: 'escrow.payment-confirmed.v1',
    partition: 0,
    offset: '2',
    occurredAt: new Date('2026-12-04T00:00:00Z'),
    command: payment('adyen', 'eu:psp-1'),
  });
  expect(other.verdict).toBe('KEPT');

  // A worker of the version before, still running during a rolling upgrade, files a
  // payment under the old key after the migration: a retry reaching this version is
  // still a duplicate (found by its payments row), not a second funding.
  const late = payment('bank', 'late-1');
  await db('inbox').insert({
    dedupe_key: oldKey(late),
    event_id: late.eventId,
    topic: 'escrow.payment-confirmed.v1',
    payload_hash: version1Hash(late),
    outcome: 'KEPT',
  });
  await db('payments').insert({
    gateway: late.gateway,
    gateway_reference: late.gatewayReference,
    event_id: late.eventId,
    order_id: late.orderId,
    milestone_id: late.milestoneId,
    kind: late.kind,
    currency: late.currency,
    amount_minor: '25000',
    confirmed_at: new Date('2026-12-04T00:00:00Z'),
    payload_hash: version1Hash(late),
    status: 'PENDING_ORDER',
  });
  const lateRetry = await applyEvent(db, settings, {
    topic: 'escrow.payment-confirmed.v1',
    partition: 0,
    offset: '3',
    occurredAt: new Date('2026-12-04T00:00:00Z'),
    command: { ...late, eventId: 'evt-late-retried' },
  });
  expect(lateRetry.verdict).toBe('DUPLICATE');
  expect(await db('inbox').where({ event_id: 'evt-late-retried' })).toEqual([]);
}, 60_000);
