/**
 * A realistic, clean escrow database for the reconciliation tests, built by
 * running real events through applyEvent: one order per situation (released,
 * partly funded, awaiting release, disputed, resolved, withdrawn, refunded,
 * cancelled, overpaid, wrong currency, service fee, payment before its order,
 * a lower finalAmount, a cancelled order, JPY), plus payments and events that
 * are kept and still fresh. The relay is simulated by marking the outbox
 * published. Each order has its own buyer and provider, so a corruption of one
 * party's account touches one order only.
 */
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { EscrowCommand, MilestonePlan } from '../../src/domain/escrow';
import { applyEvent } from '../../src/pipeline/apply-event';

let offset = 0;

export function deliverer(db: Knex, config: Config) {
  return async (command: EscrowCommand): Promise<string> => {
    const result = await applyEvent(
      db,
      {
        topicPrefix: config.TOPIC_PREFIX,
        defaultFeeRate: config.PLATFORM_FEE_RATE,
        now: () => new Date(),
      },
      {
        topic: 'escrow.reconciliation-test',
        partition: 0,
        offset: String(++offset),
        occurredAt: new Date(),
        command,
      },
    );
    return result.verdict;
  };
}

const plan = (milestoneId: string, amount: string, inspectionPeriodSeconds = 0): MilestonePlan => ({
  milestoneId,
  sequence: Number(milestoneId.replace(/\D/g, '')) || 1,
  amount,
  releaseCondition: 'DELIVERY_CONFIRMED',
  inspectionPeriodSeconds,
});

export const open = (
  orderId: string,
  milestones = [plan('m-1', '1000.00')],
  currency = 'USD',
): EscrowCommand => ({
  type: 'ORDER_OPENED',
  eventId: `open-${orderId}`,
  orderId,
  buyerId: `buyer-${orderId}`,
  providerId: `provider-${orderId}`,
  currency,
  milestones,
});

export const pay = (
  orderId: string,
  amount: string,
  options: {
    milestoneId?: string | null;
    currency?: string;
    kind?: 'DEPOSIT' | 'SERVICE_FEE';
    ref?: string;
  } = {},
): EscrowCommand => {
  const ref = options.ref ?? `ch-${orderId}-${amount}`;
  return {
    type: 'PAYMENT_CONFIRMED',
    eventId: `pay-${ref}`,
    gateway: 'stripe',
    gatewayReference: ref,
    orderId,
    milestoneId: options.milestoneId === undefined ? 'm-1' : options.milestoneId,
    kind: options.kind ?? 'DEPOSIT',
    amount,
    currency: options.currency ?? 'USD',
  };
};

const reached = (orderId: string, finalAmount?: string): EscrowCommand => ({
  type: 'MILESTONE_REACHED',
  eventId: `reached-${orderId}`,
  orderId,
  milestoneId: 'm-1',
  condition: 'DELIVERY_CONFIRMED',
  ...(finalAmount ? { finalAmount } : {}),
});

const dispute = (orderId: string, step: 'DISPUTE_OPENED' | 'DISPUTE_WITHDRAWN'): EscrowCommand => ({
  type: step,
  eventId: `${step}-${orderId}`,
  orderId,
  milestoneId: 'm-1',
  disputeId: `d-${orderId}`,
});

/** The orders whose milestone m-1 still holds funds when the scenario is built. */
export const holdingFunds = [
  'o-partial',
  'o-funded',
  'o-awaiting',
  'o-disputed',
  'o-withdrawn',
  'o-refund',
  'o-overpaid',
  'o-early',
  'o-final',
];

export async function buildCleanState(db: Knex, config: Config): Promise<void> {
  const deliver = deliverer(db, config);
  // One line per order, in the order its events arrive.
  // prettier-ignore
  const story: EscrowCommand[] = [
    open('o-released'), pay('o-released', '1000.00'), reached('o-released'),
    open('o-partial'), pay('o-partial', '400.00'),
    open('o-funded'), pay('o-funded', '1000.00'),
    open('o-awaiting', [plan('m-1', '1000.00', 3600)]), pay('o-awaiting', '1000.00'), reached('o-awaiting'),
    open('o-disputed'), pay('o-disputed', '1000.00'), dispute('o-disputed', 'DISPUTE_OPENED'),
    open('o-resolved'), pay('o-resolved', '1000.00'), dispute('o-resolved', 'DISPUTE_OPENED'),
    {
      type: 'DISPUTE_RESOLVED', eventId: 'resolved-o-resolved', orderId: 'o-resolved', milestoneId: 'm-1',
      disputeId: 'd-o-resolved', resolution: { providerAmount: '600.00', buyerAmount: '400.00' },
    },
    open('o-withdrawn'), pay('o-withdrawn', '1000.00'), dispute('o-withdrawn', 'DISPUTE_OPENED'),
    dispute('o-withdrawn', 'DISPUTE_WITHDRAWN'),
    open('o-refund'), pay('o-refund', '1000.00'),
    { type: 'REFUND_REQUESTED', eventId: 'refund-o-refund', orderId: 'o-refund', milestoneId: 'm-1', amount: '300.00', reason: 'scope cut' },
    open('o-cancelled'), pay('o-cancelled', '500.00'),
    { type: 'MILESTONE_CANCELLED', eventId: 'cancel-o-cancelled', orderId: 'o-cancelled', milestoneId: 'm-1' },
    open('o-overpaid'), pay('o-overpaid', '1200.00'),
    open('o-mismatch'), pay('o-mismatch', '100.00', { currency: 'EUR' }),
    open('o-fee'), pay('o-fee', '25.00', { milestoneId: null, kind: 'SERVICE_FEE' }),
    pay('o-early', '1000.00'), open('o-early'),
    open('o-final', [plan('m-1', '1000.00', 3600)]), pay('o-final', '1000.00'), reached('o-final', '800.00'),
    open('o-two', [plan('m-1', '1000.00'), plan('m-2', '500.00')]), pay('o-two', '1000.00'),
    { type: 'ORDER_CANCELLED', eventId: 'cancel-o-two', orderId: 'o-two' },
    open('o-jpy', [plan('m-1', '5000')], 'JPY'), pay('o-jpy', '5000', { currency: 'JPY' }), reached('o-jpy'),
    // Kept, and fresh: an order that has not opened yet, and a milestone its order does not have.
    pay('o-never', '70.00'), dispute('o-never', 'DISPUTE_OPENED'),
    pay('o-partial', '30.00', { milestoneId: 'm-9' }),
  ];
  for (const command of story) {
    const verdict = await deliver(command);
    if (verdict !== 'APPLIED' && verdict !== 'KEPT' && verdict !== 'REJECTED') {
      throw new Error(`scenario: ${command.type} ${command.eventId} was ${verdict}`);
    }
  }
  // The relay would have published them by now.
  await db('outbox').whereNull('published_at').update({ published_at: db.fn.now() });
}

/** Ids a corruption needs: a transaction of an order by kind. */
export async function transactionOf(db: Knex, orderId: string, kind: string): Promise<string> {
  const row = await db('ledger_transactions')
    .where({ order_id: orderId, kind })
    .orderBy('transaction_id')
    .first<{ transaction_id: string } | undefined>('transaction_id');
  if (!row) throw new Error(`scenario: order ${orderId} has no ${kind} transaction`);
  return row.transaction_id;
}
