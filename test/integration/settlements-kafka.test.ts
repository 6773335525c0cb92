/**
 * The money loop through the real topics: a whole worker in-process against
 * the real broker, registry, Postgres and Redis. A payout asked for, failed
 * by the payout service (its outcomeId sent in upper case), the failure
 * redelivered under a new eventId, paid anyway (refused INVALID_STATE), the
 * payment charged back after release (a receivable of the net, the fee
 * reversed), the provider's next release of another order netted by it
 * (nothing left to pay, nothing asked), a settlement for an outcome not known
 * kept, a settlement of the wrong amount refused SETTLEMENT_MISMATCH, and one
 * that is not valid dead-lettered with its reason while consuming goes on.
 * A refund failed, asked for again by the operator's command and paid; a
 * payout paid; a chargeback after release reversed. Every outcome is read
 * back from its topic and decoded with the registry.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { runRetry } from '../../src/cli/retry-command';
import { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic, OutboundTopic } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import { createLogger } from '../../src/logging/logger';
import { type RunningWorker, startWorker } from '../../src/worker';
import { inboxOutcomeOf } from '../support/contract-rows';
import { type Received, startCollector } from '../support/kafka';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
let worker: RunningWorker;
let kafka: Kafka;
let codec: RegistryCodec;
let outcomes: { received: Received[]; stop: () => Promise<void> };

const topic = (name: string) => `${ctx.config.TOPIC_PREFIX}${name}`;
const outboundNames: OutboundTopic[] = [
  'escrow.payouts.v1',
  'escrow.refunds.v1',
  'escrow.events.v1',
  'escrow.dlq.v1',
];

async function send(name: InboundTopic, message: Record<string, unknown>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: topic(name),
      messages: [{ key: String(message.orderId), value: await codec.encode(name, message) }],
    });
  } finally {
    await producer.disconnect();
  }
}

type Decoded = Record<string, unknown> & { type: string; orderId: string };

/** Every decoded outcome of one topic so far, for one order. */
async function outcomesOf(name: OutboundTopic, orderId: string): Promise<Decoded[]> {
  const found: Decoded[] = [];
  for (const { topic: from, message } of outcomes.received) {
    if (from !== topic(name) || message.key?.toString() !== orderId) continue;
    const decoded = await codec.decode(name, message.value);
    if (!decoded.ok) throw new Error(`an outcome on ${from} did not decode: ${decoded.reason}`);
    found.push(decoded.value as Decoded);
  }
  return found;
}

/** Waits until an outcome of `type` for the order is on the topic, and returns it. */
async function awaitOutcome(name: OutboundTopic, orderId: string, type: string, nth = 1) {
  let match: Decoded | undefined;
  await waitUntil(
    async () => {
      match = (await outcomesOf(name, orderId)).filter((o) => o.type === type)[nth - 1];
      return match !== undefined;
    },
    45_000,
    `${type} #${nth} of ${orderId} on ${name}`,
  );
  return match!;
}

const detailsOf = (outcome: Decoded) =>
  JSON.parse(outcome.details as string) as Record<string, unknown>;

const inboxOutcome = (dedupeKey: string) => inboxOutcomeOf(ctx.db, dedupeKey);

async function releaseThroughKafka(orderId: string, amount: string, providerId: string) {
  const [opened] = validMessages['escrow.orders.v1'];
  const [milestone] = opened.milestones;
  await send('escrow.orders.v1', {
    ...opened,
    eventId: `open-${orderId}`,
    orderId,
    providerId,
    milestones: [{ ...milestone, amount }],
  });
  await send('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    eventId: `pay-${orderId}`,
    orderId,
    amount,
    gatewayReference: `ch-${orderId}`,
  });
  await send('escrow.milestone-reached.v1', {
    ...validMessages['escrow.milestone-reached.v1'][0],
    eventId: `reached-${orderId}`,
    orderId,
    finalAmount: null,
  });
}

const settlement = (fields: Record<string, unknown>) => ({
  ...validMessages['escrow.settlements.v1'][0],
  milestoneId: 'm-1',
  ...fields,
});

beforeAll(async () => {
  worker = await startWorker(ctx.config, createLogger({ LOG_LEVEL: 'silent' }));
  kafka = createKafka(ctx.config, 'settlements-test');
  codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([
    'escrow.orders.v1',
    'escrow.payment-confirmed.v1',
    'escrow.milestone-reached.v1',
    'escrow.settlements.v1',
    ...outboundNames,
  ]);
  outcomes = await startCollector(
    kafka,
    `${ctx.config.CONSUMER_GROUP}-outcomes`,
    outboundNames.map(topic),
  );
}, 60_000);
ctx.beforeTeardown(async () => {
  await outcomes?.stop();
  await worker?.stop();
});

test('a payout failed, redelivered, paid after failing, charged back, and netted by the next release', async () => {
  await releaseThroughKafka('o-loop', '1000.00', 'p-loop');
  const payout = await awaitOutcome('escrow.payouts.v1', 'o-loop', 'PAYOUT_REQUESTED');
  expect(payout).toMatchObject({
    providerId: 'p-loop',
    grossAmount: '1000.00',
    feeAmount: '100.00',
    recoveredAmount: '0.00',
    netAmount: '900.00',
  });
  const outcomeId = payout.outcomeId as string;

  // The payout service refuses the transfer; it names the outcome in upper case.
  const failed = settlement({
    eventId: 'settle-failed-1',
    orderId: 'o-loop',
    outcomeId: outcomeId.toUpperCase(),
    gatewayReference: 'tr-loop',
    amount: '900.00',
  });
  await send('escrow.settlements.v1', failed);
  const failure = await awaitOutcome('escrow.events.v1', 'o-loop', 'PAYOUT_FAILED');
  expect(detailsOf(failure)).toMatchObject({
    settledOutcomeId: outcomeId,
    partyId: 'p-loop',
    settledAmount: '900.00',
    failureReason: 'ACCOUNT_CLOSED',
  });
  // Redelivered under a new eventId: a duplicate, no second outcome.
  await send('escrow.settlements.v1', { ...failed, eventId: 'settle-failed-1-retried' });
  // Then paid without a retry: refused, nothing moves.
  await send('escrow.settlements.v1', {
    ...failed,
    eventId: 'settle-paid-1',
    type: 'PAYOUT_PAID',
    reason: null,
    outcomeId,
  });
  const refused = await awaitOutcome('escrow.events.v1', 'o-loop', 'EVENT_REJECTED');
  expect(refused).toMatchObject({ reason: 'INVALID_STATE', causeEventId: 'settle-paid-1' });
  expect(refused.message).toContain(`is FAILED already`);
  expect(refused.message).toContain('escrow-worker payouts retry');
  const dedupe = (type: string) =>
    `settlement:${JSON.stringify(['payout-service', 'tr-loop', type])}`;
  expect(await inboxOutcome(dedupe('PAYOUT_FAILED'))).toBe('APPLIED');
  const duplicates = await ctx
    .db('inbox')
    .where({ dedupe_key: dedupe('PAYOUT_FAILED') })
    .count<{ count: string }[]>({ count: '*' });
  expect(duplicates[0]!.count).toBe('1');
  expect(
    (await outcomesOf('escrow.events.v1', 'o-loop')).filter((o) => o.type === 'PAYOUT_FAILED'),
  ).toHaveLength(1);

  // The buyer's bank pulls the whole payment back after release.
  await send('escrow.settlements.v1', {
    ...settlement({}),
    eventId: 'chargeback-1',
    type: 'CHARGEBACK',
    orderId: 'o-loop',
    outcomeId: null,
    gateway: 'stripe',
    gatewayReference: 'ch-o-loop',
    amount: '1000.00',
    reason: null,
  });
  const applied = await awaitOutcome('escrow.events.v1', 'o-loop', 'CHARGEBACK_APPLIED');
  expect(detailsOf(applied)).toMatchObject({
    chargebackAmount: '1000.00',
    fromHeld: '0.00',
    fromDisputed: '0.00',
    feeReversed: '100.00',
    receivable: '900.00',
    fromPlatform: '0.00',
    providerId: 'p-loop',
  });

  // The provider's next release, of another order, is recovered in full: nothing asked.
  await releaseThroughKafka('o-loop-next', '500.00', 'p-loop');
  const released = await awaitOutcome('escrow.events.v1', 'o-loop-next', 'MILESTONE_RELEASED');
  expect(detailsOf(released)).toMatchObject({
    grossAmount: '500.00',
    feeAmount: '50.00',
    recoveredAmount: '450.00',
  });
  expect(await outcomesOf('escrow.payouts.v1', 'o-loop-next')).toEqual([]);
  const receivable = await ctx
    .db('accounts')
    .where({ code: 'PROVIDER_RECEIVABLE:USD:p-loop' })
    .first<{ balance_minor: string }>('balance_minor');
  expect(receivable.balance_minor).toBe('-45000');
}, 120_000);

test('a settlement for an outcome not known is kept; a wrong amount is refused; an invalid one is dead-lettered', async () => {
  await releaseThroughKafka('o-edge', '200.00', 'p-edge');
  const payout = await awaitOutcome('escrow.payouts.v1', 'o-edge', 'PAYOUT_REQUESTED');
  const unknown = randomUUID();
  await send('escrow.settlements.v1', {
    ...settlement({}),
    eventId: 'settle-unknown',
    type: 'PAYOUT_PAID',
    orderId: 'o-edge',
    outcomeId: unknown,
    gatewayReference: 'tr-unknown',
    amount: '180.00',
    reason: null,
  });
  await send('escrow.settlements.v1', {
    ...settlement({}),
    eventId: 'settle-short',
    type: 'PAYOUT_PAID',
    orderId: 'o-edge',
    outcomeId: payout.outcomeId,
    gatewayReference: 'tr-short',
    amount: '179.99',
    reason: null,
  });
  await send('escrow.settlements.v1', {
    ...settlement({}),
    eventId: 'settle-not-uuid',
    type: 'PAYOUT_PAID',
    orderId: 'o-edge',
    outcomeId: 'payout-42',
    gatewayReference: 'tr-bad',
    amount: '180.00',
    reason: null,
  });
  const mismatch = await awaitOutcome('escrow.events.v1', 'o-edge', 'EVENT_REJECTED');
  expect(mismatch).toMatchObject({ reason: 'SETTLEMENT_MISMATCH', causeEventId: 'settle-short' });
  expect(mismatch.message).toContain('is for 179.99 USD');
  expect(mismatch.message).toContain('asked for 180.00 USD');

  const dead = await (async () => {
    let found: Received | undefined;
    await waitUntil(
      () => {
        found = outcomes.received.find(
          (r) => r.topic === topic('escrow.dlq.v1') && r.message.key?.toString() === 'o-edge',
        );
        return found !== undefined;
      },
      45_000,
      'the invalid settlement on the dead-letter topic',
    );
    return found!;
  })();
  expect(dead.message.headers?.['dlq-source-topic']?.toString()).toBe(
    topic('escrow.settlements.v1'),
  );
  expect(dead.message.headers?.['dlq-reason']?.toString()).toContain(
    'outcomeId must be the outcomeId (a UUID',
  );

  await waitUntil(
    async () =>
      (await inboxOutcome(
        `settlement:${JSON.stringify(['payout-service', 'tr-unknown', 'PAYOUT_PAID'])}`,
      )) === 'KEPT',
    45_000,
    'the settlement for an unknown outcome kept',
  );
  const kept = await ctx
    .db('kept_events')
    .where({ order_id: 'o-edge' })
    .select<{ awaiting: string; replayed_at: Date | null }[]>('awaiting', 'replayed_at');
  expect(kept).toEqual([{ awaiting: `outcome:${unknown}`, replayed_at: null }]);
  // Nothing moved for any of the three: the payable still holds the whole net.
  const payable = await ctx
    .db('accounts')
    .where({ code: 'PROVIDER_PAYABLE:USD:p-edge' })
    .first<{ balance_minor: string }>('balance_minor');
  expect(payable.balance_minor).toBe('18000');
}, 120_000);

test('a refund failed, asked for again and paid; a payout paid; a chargeback after release reversed, its receivable cancelled', async () => {
  // A 300.00 refund of a 1000.00 milestone, then the release of the rest.
  const [opened] = validMessages['escrow.orders.v1'];
  await send('escrow.orders.v1', {
    ...opened,
    eventId: 'open-o-refund',
    orderId: 'o-refund',
    providerId: 'p-refund',
  });
  await send('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    eventId: 'pay-o-refund',
    orderId: 'o-refund',
    gatewayReference: 'ch-o-refund',
  });
  // The payment travels on another topic than the refund: wait until it is held.
  await awaitOutcome('escrow.events.v1', 'o-refund', 'MILESTONE_FUNDED');
  await send('escrow.orders.v1', {
    ...validMessages['escrow.orders.v1'][1],
    eventId: 'refund-o-refund',
    orderId: 'o-refund',
    amount: '300.00',
    expectedVersion: null,
  });
  const refund = await awaitOutcome('escrow.refunds.v1', 'o-refund', 'REFUND_REQUESTED');
  expect(refund).toMatchObject({ amount: '300.00', reason: 'REQUESTED' });
  const refundSettlement = (fields: Record<string, unknown>) =>
    settlement({ orderId: 'o-refund', gateway: 'stripe', amount: '300.00', ...fields });
  await send(
    'escrow.settlements.v1',
    refundSettlement({
      eventId: 'refund-failed',
      type: 'REFUND_FAILED',
      outcomeId: refund.outcomeId,
      gatewayReference: 're-1',
      reason: 'CARD_EXPIRED',
    }),
  );
  expect(
    detailsOf(await awaitOutcome('escrow.events.v1', 'o-refund', 'REFUND_FAILED')),
  ).toMatchObject({
    settledOutcomeId: refund.outcomeId,
    failureReason: 'CARD_EXPIRED',
  });
  // The operator asks again: a new REFUND_REQUESTED for the same money, through the outbox and the relay.
  const said: string[] = [];
  const code = await runRetry('REFUND', ['retry', '--outcome', refund.outcomeId as string], {
    config: () => ctx.config,
    stdout: (text) => said.push(text),
    stderr: (text) => said.push(text),
  });
  expect([code, said.join('')]).toEqual([0, expect.stringContaining(refund.outcomeId as string)]);
  const retried = await awaitOutcome('escrow.refunds.v1', 'o-refund', 'REFUND_REQUESTED', 2);
  expect(retried).toMatchObject({
    amount: '300.00',
    reason: 'REQUESTED',
    causeEventId: `retry:${String(refund.outcomeId)}`,
  });
  expect(retried.outcomeId).not.toBe(refund.outcomeId);
  await send(
    'escrow.settlements.v1',
    refundSettlement({
      eventId: 'refund-paid',
      type: 'REFUND_PAID',
      outcomeId: retried.outcomeId,
      gatewayReference: 're-2',
      reason: null,
    }),
  );
  await awaitOutcome('escrow.events.v1', 'o-refund', 'REFUND_SETTLED');

  await send('escrow.milestone-reached.v1', {
    ...validMessages['escrow.milestone-reached.v1'][0],
    eventId: 'reached-o-refund',
    orderId: 'o-refund',
    finalAmount: null,
  });
  const payout = await awaitOutcome('escrow.payouts.v1', 'o-refund', 'PAYOUT_REQUESTED');
  expect(payout).toMatchObject({ grossAmount: '700.00', feeAmount: '70.00', netAmount: '630.00' });
  await send(
    'escrow.settlements.v1',
    settlement({
      eventId: 'payout-paid',
      type: 'PAYOUT_PAID',
      orderId: 'o-refund',
      outcomeId: payout.outcomeId,
      gatewayReference: 'po-1',
      amount: '630.00',
      reason: null,
    }),
  );
  await awaitOutcome('escrow.events.v1', 'o-refund', 'PAYOUT_SETTLED');

  // The buyer's bank pulls the payment back, then the platform wins: 300.00 had been refunded
  // already, 700.00 was released (70.00 fee reversed, 630.00 receivable), and nothing recovered.
  const chargeback = {
    ...settlement({}),
    orderId: 'o-refund',
    outcomeId: null,
    gateway: 'stripe',
    gatewayReference: 'ch-o-refund',
    amount: '1000.00',
    reason: null,
  };
  await send('escrow.settlements.v1', {
    ...chargeback,
    eventId: 'cb-o-refund',
    type: 'CHARGEBACK',
  });
  const applied = detailsOf(
    await awaitOutcome('escrow.events.v1', 'o-refund', 'CHARGEBACK_APPLIED'),
  );
  expect(applied).toMatchObject({
    feeReversed: '70.00',
    receivable: '630.00',
    fromPlatform: '300.00',
  });
  await send('escrow.settlements.v1', {
    ...chargeback,
    eventId: 'cb-won-o-refund',
    type: 'CHARGEBACK_REVERSED',
  });
  const reversed = detailsOf(
    await awaitOutcome('escrow.events.v1', 'o-refund', 'CHARGEBACK_REVERSED'),
  );
  expect(reversed).toMatchObject({ receivableCancelled: '630.00', repaidToProvider: '0.00' });
  const balances = await ctx
    .db('accounts')
    .whereIn('code', [
      'PROVIDER_RECEIVABLE:USD:p-refund',
      'PROVIDER_PAYABLE:USD:p-refund',
      'BUYER_REFUND_PAYABLE:USD:buyer-1',
    ])
    .orderBy('code')
    .select<{ code: string; balance_minor: string }[]>('code', 'balance_minor');
  expect(balances).toEqual([
    { code: 'BUYER_REFUND_PAYABLE:USD:buyer-1', balance_minor: '0' },
    { code: 'PROVIDER_PAYABLE:USD:p-refund', balance_minor: '0' },
    { code: 'PROVIDER_RECEIVABLE:USD:p-refund', balance_minor: '0' },
  ]);
}, 120_000);
