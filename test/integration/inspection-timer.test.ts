/**
 * The inspection-period release fires on time, from deadlines kept in the
 * database, and once: a timer that fires again, or two timers (two workers, or
 * one restarted after a crash) firing the same deadline, release nothing more.
 */
import type { EscrowCommand } from '../../src/domain/escrow';
import { createLogger } from '../../src/logging/logger';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { PipelineSettings } from '../../src/pipeline/events';
import { InspectionTimer } from '../../src/timers/inspection-timer';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
let now = new Date('2026-07-01T12:00:00Z');
const settings = (): PipelineSettings => ({
  topicPrefix: ctx.config.TOPIC_PREFIX,
  defaultFeeRate: '0.10',
  now: () => now,
});
const deliver = (command: EscrowCommand) =>
  applyEvent(ctx.db, settings(), {
    topic: 'escrow.test',
    partition: 0,
    offset: '0',
    occurredAt: now,
    command,
  });
const log = createLogger({ LOG_LEVEL: 'silent' });
const releases = async () =>
  Number(
    (
      await ctx
        .db('ledger_transactions')
        .where({ order_id: 'o-timer', kind: 'RELEASE' })
        .count({ n: '*' })
    )[0]!.n,
  );

test('the release fires when the inspection deadline has passed, once, whichever timer fires it', async () => {
  await deliver({
    type: 'ORDER_OPENED',
    eventId: 'open-timer',
    orderId: 'o-timer',
    buyerId: 'b',
    providerId: 'p',
    currency: 'USD',
    milestones: [
      {
        milestoneId: 'm-1',
        sequence: 1,
        amount: '50.00',
        releaseCondition: 'ANY',
        inspectionPeriodSeconds: 3600,
      },
    ],
  });
  await deliver({
    type: 'PAYMENT_CONFIRMED',
    eventId: 'pay-timer',
    gateway: 'g',
    gatewayReference: 'ref-timer',
    orderId: 'o-timer',
    milestoneId: 'm-1',
    kind: 'DEPOSIT',
    amount: '50.00',
    currency: 'USD',
  });
  await deliver({
    type: 'MILESTONE_REACHED',
    eventId: 'reach-timer',
    orderId: 'o-timer',
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
  });

  const timer = new InspectionTimer(ctx.db, settings(), log);
  const restarted = new InspectionTimer(ctx.db, settings(), log);
  now = new Date('2026-07-01T12:59:59Z');
  expect(await timer.fireDue()).toBe(0);
  expect(await releases()).toBe(0);

  now = new Date('2026-07-01T13:00:00Z');
  // Two timers see the same due milestone at once: the inbox lets one deadline fire once.
  const fired = await Promise.all([timer.fireDue(), restarted.fireDue()]);
  expect(fired.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  expect(await releases()).toBe(1);
  expect(await timer.fireDue()).toBe(0);
  expect(await ctx.db('milestones').where({ order_id: 'o-timer' }).first()).toMatchObject({
    state: 'RELEASED',
    version: 4,
  });
});

test('orders "shop:42"/"m1" and "shop"/"42:m1" due at one instant are both released', async () => {
  const start = new Date('2026-08-01T12:00:00Z');
  now = start;
  const pairs = [
    ['shop:42', 'm1'],
    ['shop', '42:m1'],
  ] as const;
  for (const [orderId, milestoneId] of pairs) {
    await deliver({
      type: 'ORDER_OPENED',
      eventId: `open-${orderId}`,
      orderId,
      buyerId: 'b',
      providerId: 'p',
      currency: 'USD',
      milestones: [
        {
          milestoneId,
          sequence: 1,
          amount: '10.00',
          releaseCondition: 'ANY',
          inspectionPeriodSeconds: 60,
        },
      ],
    });
    await deliver({
      type: 'PAYMENT_CONFIRMED',
      eventId: `pay-${orderId}`,
      gateway: 'g',
      gatewayReference: `ref-${orderId}`,
      orderId,
      milestoneId,
      kind: 'DEPOSIT',
      amount: '10.00',
      currency: 'USD',
    });
    await deliver({
      type: 'MILESTONE_REACHED',
      eventId: `reach-${orderId}`,
      orderId,
      milestoneId,
      condition: 'DELIVERY_CONFIRMED',
    });
  }
  now = new Date(start.getTime() + 60_000);
  expect(await new InspectionTimer(ctx.db, settings(), log).fireDue()).toBe(2);
  const states = await ctx
    .db('milestones')
    .whereIn('order_id', ['shop:42', 'shop'])
    .orderBy('order_id')
    .pluck('state');
  expect(states).toEqual(['RELEASED', 'RELEASED']);
});
