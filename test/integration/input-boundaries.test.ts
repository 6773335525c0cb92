/**
 * Inputs at the edges, on real Postgres, through both ways the pipeline
 * applies events today (a slice in bulk and one event at a time): each edge
 * must end in a business verdict with its outcomes, never in a database
 * error that would dead-letter the event.
 *
 * - A payment in an ISO 4217 code the runtime's Intl does not list (CLF, a
 *   fund code; XXX, "no currency") is a currency mismatch like any other:
 *   kept before its order, refunded in full once the order is known.
 * - An amount whose minor units overflow BIGINT once the fraction is padded
 *   ("99999999999999999" USD) is rejected INVALID_AMOUNT, before or after
 *   its order.
 * - Two payments whose gateway and reference differ only in where a ":"
 *   falls are two payments; a retried callback spelling its amount another
 *   way ("250", then "250.00") is one.
 * - A FINAL top-up that arrives before the milestone-reached event naming a
 *   higher final amount is held for it, and the release is the same as when
 *   the reach comes first.
 */
import type { Knex } from 'knex';
import { consumers } from '../../consumers';
import type { InboundTopic } from '../../src/codec/schemas';
import { applyBatch } from '../../src/pipeline/apply-batch';
import { runReconciliation } from '../../src/reconcile';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { EventResult, InboundEvent, PipelineSettings } from '../../src/pipeline/events';
import { validMessages } from '../support/messages';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();
const handlers = new Map(consumers.map((handler) => [handler.topic, handler]));
const settings: PipelineSettings = {
  topicPrefix: '',
  defaultFeeRate: '0.10',
  now: () => new Date('2026-06-01T09:00:00Z'),
};

type Apply = (db: Knex, events: InboundEvent[]) => Promise<EventResult[]>;
const paths: [string, Apply][] = [
  ['in one slice', (db, events) => applyBatch(db, settings, events)],
  [
    'one event at a time',
    async (db, events) => {
      const results: EventResult[] = [];
      for (const event of events) results.push(await applyEvent(db, settings, event));
      return results;
    },
  ],
];

let offset = 0;
function inbound(topic: InboundTopic, message: Record<string, unknown>): InboundEvent {
  const parsed = handlers.get(topic)!.parse(message);
  if (!parsed.ok) throw new Error(`fixture refused: ${parsed.reason}`);
  offset += 1;
  return {
    topic,
    partition: 0,
    offset: String(offset),
    occurredAt: new Date('2026-06-01T08:00:00Z'),
    command: parsed.command,
  };
}

let orderNumber = 0;
/** A fresh order (USD, one milestone of 1000.00) and a payment for it, with `changes`. */
function orderAndPayment(changes: Record<string, unknown>) {
  orderNumber += 1;
  const orderId = `boundary-${orderNumber}`;
  const open = inbound('escrow.orders.v1', {
    ...validMessages['escrow.orders.v1'][0],
    eventId: `open-${orderId}`,
    orderId,
  });
  const payment = inbound('escrow.payment-confirmed.v1', {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    eventId: `pay-${orderId}`,
    gatewayReference: `ref-${orderId}`,
    orderId,
    ...changes,
  });
  return { orderId, open, payment };
}

/** The inbox's verdict on an event, as stored. */
async function inboxVerdictOf(event: InboundEvent) {
  return ctx
    .db<{ event_id: string; outcome: string; reason: string | null }>('inbox')
    .where({ event_id: event.command.eventId })
    .first('outcome', 'reason');
}

async function refundsOf(orderId: string) {
  const rows = await ctx
    .db('outbox')
    .where({ message_key: orderId, type: 'REFUND_REQUESTED' })
    .select('payload');
  return rows.map((row: { payload: unknown }) => {
    const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as {
      amount: string;
      currency: string;
      reason: string;
    };
    return { amount: payload.amount, currency: payload.currency, reason: payload.reason };
  });
}

describe.each(paths)('%s', (_name, apply) => {
  test.each([
    ['CLF', '12.3456'],
    ['XXX', '7'],
  ])(
    'a payment in %s before its order is kept, then refunded in full as a currency mismatch',
    async (currency, amount) => {
      const { orderId, open, payment } = orderAndPayment({ currency, amount });
      const [kept] = await apply(ctx.db, [payment]);
      expect(kept!.verdict).toBe('KEPT');
      await apply(ctx.db, [open]);
      expect(await inboxVerdictOf(payment)).toEqual({
        outcome: 'REJECTED',
        reason: 'CURRENCY_MISMATCH',
      });
      expect(await refundsOf(orderId)).toEqual([{ amount, currency, reason: 'CURRENCY_MISMATCH' }]);
    },
  );

  test('a payment in CLF after its order is rejected CURRENCY_MISMATCH and refunded', async () => {
    const { orderId, open, payment } = orderAndPayment({ currency: 'CLF', amount: '1.5' });
    const [, paid] = await apply(ctx.db, [open, payment]);
    expect({ verdict: paid!.verdict, reason: paid!.reason }).toEqual({
      verdict: 'REJECTED',
      reason: 'CURRENCY_MISMATCH',
    });
    expect(await refundsOf(orderId)).toEqual([
      { amount: '1.5000', currency: 'CLF', reason: 'CURRENCY_MISMATCH' },
    ]);
  });

  test.each(['99999999999999999', '10000000000000000'])(
    'an amount of %p USD, past BIGINT once padded, is rejected INVALID_AMOUNT before and after its order',
    async (amount) => {
      const first = orderAndPayment({ amount });
      const [afterOpen] = (await apply(ctx.db, [first.open, first.payment])).slice(1);
      expect({ verdict: afterOpen!.verdict, reason: afterOpen!.reason }).toEqual({
        verdict: 'REJECTED',
        reason: 'INVALID_AMOUNT',
      });

      const second = orderAndPayment({ amount });
      const [kept] = await apply(ctx.db, [second.payment]);
      expect(kept!.verdict).toBe('KEPT');
      await apply(ctx.db, [second.open]);
      expect(await inboxVerdictOf(second.payment)).toEqual({
        outcome: 'REJECTED',
        reason: 'INVALID_AMOUNT',
      });
    },
  );

  test('("adyen:eu", "psp-1") and ("adyen", "eu:psp-1") both fund the milestone', async () => {
    // Each path's case under references of its own (a reference reused elsewhere is a conflict).
    const reference = `psp-${orderNumber + 1}`;
    const { orderId, open, payment } = orderAndPayment({
      gateway: 'adyen:eu',
      gatewayReference: reference,
      amount: '300.00',
    });
    const other = inbound('escrow.payment-confirmed.v1', {
      ...validMessages['escrow.payment-confirmed.v1'][0],
      eventId: `pay-other-${orderId}`,
      gateway: 'adyen',
      gatewayReference: `eu:${reference}`,
      orderId,
      amount: '300.00',
    });
    const results = await apply(ctx.db, [open, payment, other]);
    expect(results.map((result) => result.verdict)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    const funded = await ctx
      .db('milestones')
      .where({ order_id: orderId })
      .first<{ funded_minor: string }>('funded_minor');
    expect(funded?.funded_minor).toBe('60000');
  });

  test('a retried callback spelling "250" as "250.00" is a duplicate', async () => {
    const { open, payment } = orderAndPayment({ amount: '250' });
    const retried: InboundEvent = {
      ...payment,
      command: {
        ...payment.command,
        eventId: 'retried',
        amount: '250.00',
      } as typeof payment.command,
    };
    const results = await apply(ctx.db, [open, payment]);
    expect(results.map((result) => result.verdict)).toEqual(['APPLIED', 'APPLIED']);
    const [again] = await apply(ctx.db, [retried]);
    expect(again!.verdict).toBe('DUPLICATE');
  });

  test('a FINAL top-up before a reach naming 1200: 1200 released, 120 fee, 1080 net, nothing refunded', async () => {
    const { orderId, open, payment } = orderAndPayment({ amount: '1000.00' });
    const topUp = inbound('escrow.payment-confirmed.v1', {
      ...validMessages['escrow.payment-confirmed.v1'][0],
      eventId: `final-${orderId}`,
      gatewayReference: `final-ref-${orderId}`,
      orderId,
      kind: 'FINAL',
      amount: '200.00',
    });
    const reached = inbound('escrow.milestone-reached.v1', {
      ...validMessages['escrow.milestone-reached.v1'][0],
      eventId: `reached-${orderId}`,
      orderId,
      finalAmount: '1200.00',
    });
    await apply(ctx.db, [open, payment, topUp]);
    // Waiting for the final amount, the milestone holds 1200 against 1000: not a finding.
    const waiting = await runReconciliation(ctx.db);
    const findings = waiting.checks
      .filter((check) => check.status !== 'ok')
      .flatMap((check) => check.examples)
      .filter((example) => example.refs.orderId === orderId || example.subject.includes(orderId))
      .map((example) => `${example.subject}: ${example.problem}`);
    expect(findings).toEqual([]);
    await apply(ctx.db, [reached]);
    const payouts = await ctx
      .db('outbox')
      .where({ message_key: orderId, type: 'PAYOUT_REQUESTED' })
      .pluck('payload');
    expect(
      payouts.map((row: unknown) => {
        const payload = (typeof row === 'string' ? JSON.parse(row) : row) as Record<string, string>;
        return [payload.grossAmount, payload.feeAmount, payload.netAmount];
      }),
    ).toEqual([['1200.00', '120.00', '1080.00']]);
    expect(await refundsOf(orderId)).toEqual([]);
  });

  test('a reference reused with another amount is a conflict, answered once, in one slice or alone', async () => {
    const { orderId, open, payment } = orderAndPayment({ amount: '100.00' });
    const reused = (eventId: string): InboundEvent => ({
      ...payment,
      command: { ...payment.command, eventId, amount: '1.00' } as typeof payment.command,
    });
    const results = await apply(ctx.db, [open, payment, reused('again-1'), reused('again-2')]);
    expect(results.map((result) => result.verdict)).toEqual([
      'APPLIED',
      'APPLIED',
      'IDEMPOTENCY_CONFLICT',
      'DUPLICATE',
    ]);
    const [later] = await apply(ctx.db, [reused('again-3')]);
    expect(later!.verdict).toBe('DUPLICATE');
    const rejections = await ctx
      .db('outbox')
      .where({ message_key: orderId, type: 'EVENT_REJECTED' })
      .count<{ count: string }[]>();
    expect(rejections[0]!.count).toBe('1');
  });
});
