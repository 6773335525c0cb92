/**
 * One rule for the pending split, through the one path with a stored fee
 * policy: the pending fee FUNDS_REFUNDED publishes is the fee the release
 * right after it charges — a minimum is not scaled down, and a rate is taken
 * on what stays held rather than scaled from the fee before the refund.
 */
import type { EscrowCommand } from '../../src/domain/escrow';
import { addFeePolicy } from '../../src/fees/policy-store';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { InboundEvent, PipelineSettings } from '../../src/pipeline/events';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
// The stored version starts a minute from now; the pipeline's clock is past it.
const effectiveFrom = new Date(Date.now() + 60_000);
const now = new Date(effectiveFrom.getTime() + 60_000);
const settings = (): PipelineSettings => ({
  topicPrefix: ctx.config.TOPIC_PREFIX,
  defaultFeeRate: ctx.config.PLATFORM_FEE_RATE,
  now: () => now,
});
let offset = 0;
const deliver = async (command: EscrowCommand) => {
  const event: InboundEvent = {
    topic: 'escrow.test',
    partition: 0,
    offset: String(++offset),
    occurredAt: now,
    command,
  };
  const result = await applyEvent(ctx.db, settings(), event);
  expect({ event: command.eventId, verdict: result.verdict }).toEqual({
    event: command.eventId,
    verdict: 'APPLIED',
  });
};

beforeAll(async () => {
  // 10 %, with a 1.00 minimum in USD only: EUR pays the plain rate.
  const added = await addFeePolicy(ctx.db, {
    policyId: null,
    effectiveFrom,
    rate: '0.10',
    minimumFees: { USD: '1.00' },
    volumeTiers: [],
    volumeWindowDays: 30,
    disputeFees: {},
    note: 'pending split test',
  });
  expect(added.stored).toBe(true);
});

async function refundThenRelease(
  orderId: string,
  currency: string,
  funded: string,
  refunded: string,
) {
  const ids = { orderId, milestoneId: 'm-1' };
  await deliver({
    type: 'ORDER_OPENED',
    eventId: `open-${orderId}`,
    orderId,
    buyerId: 'buyer-1',
    providerId: `provider-${orderId}`,
    currency,
    milestones: [
      {
        milestoneId: 'm-1',
        sequence: 1,
        amount: funded,
        releaseCondition: 'DELIVERY_CONFIRMED',
        inspectionPeriodSeconds: 0,
      },
    ],
  });
  await deliver({
    type: 'PAYMENT_CONFIRMED',
    eventId: `pay-${orderId}`,
    gateway: 'stripe',
    gatewayReference: `ch-${orderId}`,
    ...ids,
    kind: 'DEPOSIT',
    amount: funded,
    currency,
  });
  await deliver({
    type: 'REFUND_REQUESTED',
    eventId: `refund-${orderId}`,
    ...ids,
    amount: refunded,
    reason: 'REQUESTED',
    expectedVersion: null,
  });
  await deliver({
    type: 'MILESTONE_REACHED',
    eventId: `reached-${orderId}`,
    ...ids,
    condition: 'DELIVERY_CONFIRMED',
  });
  const rows = await ctx
    .db('outbox')
    .where({ message_key: orderId })
    .whereIn('type', ['FUNDS_REFUNDED', 'PAYOUT_REQUESTED'])
    .orderBy('outbox_id')
    .select<{ type: string; payload: Record<string, unknown> }[]>('type', 'payload');
  expect(rows.map((row) => row.type)).toEqual(['FUNDS_REFUNDED', 'PAYOUT_REQUESTED']);
  const details = JSON.parse(String(rows[0]!.payload.details)) as Record<string, string>;
  const payout = rows[1]!.payload;
  return {
    published: { fee: details.pendingFee, net: details.pendingEarnings },
    released: { fee: payout.feeAmount, net: payout.netAmount },
  };
}

test('with a 1.00 minimum, 5.00 refunded 2.50 publishes 1.00 / 1.50, and the release charges it', async () => {
  expect(await refundThenRelease('o-minimum', 'USD', '5.00', '2.50')).toEqual({
    published: { fee: '1.00', net: '1.50' },
    released: { fee: '1.00', net: '1.50' },
  });
});

test('at a plain 10 %, 0.05 refunded 0.01 publishes a fee of 0.00, and the release charges 0.00', async () => {
  expect(await refundThenRelease('o-rate', 'EUR', '0.05', '0.01')).toEqual({
    published: { fee: '0.00', net: '0.04' },
    released: { fee: '0.00', net: '0.04' },
  });
});
