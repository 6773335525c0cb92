/**
 * One order's life as the upstream services would tell it: the marketplace
 * opens it with 2–4 milestones, gateways confirm a deposit and sometimes
 * installments for each, upstream services report milestones reached, the
 * dispute desk opens and settles a few disputes, and a few milestones are
 * partly refunded before release. Every event gets a `step` in the order's
 * own timeline, so the generator can interleave many orders while keeping
 * each one causal. Amounts are bigint minor units, split exactly with the
 * domain's `allocate`, and written as decimal strings.
 */
import { allocate, formatAmount, type Money, money } from '../domain/money';
import {
  disputeEvent,
  type InboundMessage,
  milestoneReached,
  type MilestonePlan,
  orderOpened,
  paymentConfirmed,
} from '../demo/inbound-events';
import type { Random } from './random';
import { chargeback, chargebackShare, type ExpectedRequest } from './settlement-plan';

export type EventKind =
  | 'ORDER_OPENED'
  | 'PAYMENT'
  | 'DUPLICATE_PAYMENT'
  | 'REACHED'
  | 'REFUND_REQUESTED'
  | 'DISPUTE_OPENED'
  | 'DISPUTE_RESOLVED'
  | 'DISPUTE_WITHDRAWN'
  | 'CHARGEBACK';

export interface PlannedEvent {
  readonly kind: EventKind;
  readonly message: InboundMessage;
  /** Position in the order's own timeline (0 = opened); orders interleave by it. */
  readonly step: number;
  /** For a retried gateway callback: the eventId of the payment it repeats. */
  readonly duplicateOf?: string;
  /**
   * The payouts and refunds this event causes when the order's events apply
   * in order: each is answered by a settlement once the worker publishes it.
   */
  readonly requests?: readonly ExpectedRequest[];
}

/** What happens to a milestone after it is opened. */
type Fate = 'RELEASE' | 'REACHED_EARLY' | 'REFUND' | 'DISPUTE_SPLIT' | 'DISPUTE_WITHDRAWN' | 'OPEN';

const fates: readonly (readonly [Fate, number])[] = [
  ['RELEASE', 62],
  ['REACHED_EARLY', 12],
  ['REFUND', 6],
  ['DISPUTE_SPLIT', 5],
  ['DISPUTE_WITHDRAWN', 5],
  ['OPEN', 10],
];
const currencies: readonly (readonly [string, number])[] = [
  ['USD', 70],
  ['EUR', 20],
  ['JPY', 10],
];
const conditions = ['DELIVERY_CONFIRMED', 'REPORT_SUBMITTED', 'BUYER_APPROVED'] as const;
const gateways = ['stripe', 'adyen', 'paypal'] as const;

export interface Parties {
  readonly buyers: number;
  readonly providers: number;
}

/** 50.00–5,000.00 in two-digit currencies; 500–500,000 yen. */
const amountRange = (currency: string): [bigint, bigint] =>
  currency === 'JPY' ? [500n, 500_000n] : [5_000n, 500_000n];

export function planOrder(random: Random, index: number, parties: Parties): PlannedEvent[] {
  const orderId = `order-${String(index + 1).padStart(6, '0')}`;
  const currency = random.weighted(currencies);
  const [low, high] = amountRange(currency);
  const milestones: (MilestonePlan & { minor: bigint; fate: Fate })[] = [];
  const count = random.int(2, 4);
  for (let sequence = 1; sequence <= count; sequence++) {
    const minor = random.bigint(low, high);
    milestones.push({
      milestoneId: `m${sequence}`,
      sequence,
      amount: formatAmount(money(currency, minor)),
      releaseCondition: random.weighted([...conditions.map((c) => [c, 3] as const), ['ANY', 1]]),
      // 0: release as soon as reached and funded, so every release is caused by an event.
      inspectionPeriodSeconds: 0,
      minor,
      fate: random.weighted(fates),
    });
  }
  const events: PlannedEvent[] = [];
  let step = 0;
  const at = (kind: EventKind, message: InboundMessage, requests?: ExpectedRequest[]) => {
    events.push(requests ? { kind, message, step, requests } : { kind, message, step });
    step += 0.5 + random.next();
  };
  at(
    'ORDER_OPENED',
    orderOpened({
      eventId: `${orderId}:opened`,
      orderId,
      buyerId: `buyer-${random.int(1, parties.buyers)}`,
      providerId: `provider-${random.int(1, parties.providers)}`,
      currency,
      milestones: milestones.map(({ minor: _minor, fate: _fate, ...plan }) => plan),
    }),
  );
  for (const plan of milestones) {
    const ids = { orderId, milestoneId: plan.milestoneId };
    const prefix = `${orderId}:${plan.milestoneId}`;
    const amount = money(currency, plan.minor);
    const reached = () =>
      milestoneReached({
        ...ids,
        eventId: `${prefix}:reached`,
        condition:
          plan.releaseCondition === 'ANY' ? random.pick(conditions) : plan.releaseCondition,
      });
    // One payment in half the cases, else a deposit and one or two installments.
    const parts = allocate(
      amount,
      weights(
        random,
        random.weighted([
          [1, 50],
          [2, 35],
          [3, 15],
        ]),
      ),
    );
    const gateway = random.pick(gateways);
    const request = (...kinds: ExpectedRequest['kind'][]) =>
      kinds.map((kind) => ({ kind, milestoneId: plan.milestoneId, gateway }));
    const reference = (n: number) => `${gateway}_${orderId}_${plan.milestoneId}_${n + 1}`;
    parts.forEach((part, n) => {
      const last = n === parts.length - 1;
      if (plan.fate === 'REACHED_EARLY' && last) at('REACHED', reached());
      at(
        'PAYMENT',
        paymentConfirmed({
          ...ids,
          eventId: `${prefix}:pay${n + 1}`,
          gateway,
          gatewayReference: reference(n),
          kind: n === 0 ? 'DEPOSIT' : 'INSTALLMENT',
          amount: formatAmount(part),
          currency,
        }),
        // Reached before its last payment: that payment releases it.
        plan.fate === 'REACHED_EARLY' && last ? request('PAYOUT') : undefined,
      );
    });
    const dispute = (type: 'OPENED' | 'WITHDRAWN' | 'RESOLVED', extra: object = {}) =>
      disputeEvent({
        ...ids,
        ...extra,
        type,
        eventId: `${prefix}:dispute-${type.toLowerCase()}`,
        disputeId: `dispute-${orderId}-${plan.milestoneId}`,
      });
    switch (plan.fate) {
      case 'RELEASE':
        at('REACHED', reached(), request('PAYOUT'));
        // Now and then the buyer's bank pulls a payment back after the release: the
        // provider owes it, and their next release (of any order) recovers it first.
        if (random.chance(chargebackShare)) {
          const n = random.int(0, parts.length - 1);
          const whole = random.chance(0.7);
          at(
            'CHARGEBACK',
            chargeback({
              ...ids,
              eventId: `${prefix}:chargeback`,
              gateway,
              gatewayReference: reference(n),
              amount: formatAmount(whole ? parts[n]! : split(random, parts[n]!, 10, 90)[0]),
              currency,
            }),
          );
        }
        break;
      case 'REFUND':
        at(
          'REFUND_REQUESTED',
          refundRequested(prefix, ids, split(random, amount, 20, 50)[0]),
          request('REFUND'),
        );
        at('REACHED', reached(), request('PAYOUT'));
        break;
      case 'DISPUTE_SPLIT': {
        at('DISPUTE_OPENED', dispute('OPENED', { openedBy: 'buyer', reason: 'quality' }));
        const [provider, buyer] = split(random, amount, 0, 100);
        const resolution = {
          providerAmount: formatAmount(provider),
          buyerAmount: formatAmount(buyer),
        };
        at(
          'DISPUTE_RESOLVED',
          dispute('RESOLVED', { resolution, actor: 'desk-agent' }),
          // A part of zero asks for nothing.
          request(
            ...(provider.minor > 0n ? (['PAYOUT'] as const) : []),
            ...(buyer.minor > 0n ? (['REFUND'] as const) : []),
          ),
        );
        break;
      }
      case 'DISPUTE_WITHDRAWN':
        at('DISPUTE_OPENED', dispute('OPENED', { openedBy: 'buyer', reason: 'late delivery' }));
        at('DISPUTE_WITHDRAWN', dispute('WITHDRAWN', { actor: 'buyer' }));
        at('REACHED', reached(), request('PAYOUT'));
        break;
      case 'REACHED_EARLY': // reached before its last payment, above
      case 'OPEN': // still in progress when the run ends
        break;
    }
  }
  return events;
}

/** Positive weights for splitting a payment into installments of uneven size. */
const weights = (random: Random, count: number) =>
  Array.from({ length: count }, () => BigInt(random.int(1, 4)));

/** Two parts summing exactly to `amount`, the first between `minPercent` and `maxPercent` of it. */
function split(random: Random, amount: Money, minPercent: number, maxPercent: number) {
  const percent = BigInt(random.int(minPercent, maxPercent));
  return allocate(amount, [percent, 100n - percent]) as [Money, Money];
}

function refundRequested(
  prefix: string,
  ids: { orderId: string; milestoneId: string },
  amount: Money,
): InboundMessage {
  const eventId = `${prefix}:refund`;
  return {
    topic: 'escrow.orders.v1',
    eventId,
    orderId: ids.orderId,
    label: `REFUND_REQUESTED ${ids.milestoneId} ${formatAmount(amount)}`,
    value: {
      eventId,
      type: 'REFUND_REQUESTED',
      orderId: ids.orderId,
      occurredAt: new Date().toISOString(),
      buyerId: null,
      providerId: null,
      currency: null,
      milestones: null,
      milestoneId: ids.milestoneId,
      amount: formatAmount(amount),
      reason: 'PARTIAL_COMPLETION',
      expectedVersion: null,
    },
  };
}
