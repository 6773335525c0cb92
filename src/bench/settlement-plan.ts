/**
 * The settlements of the benchmark's workload (escrow.settlements.v1): what
 * the payout service and the gateways answer to the worker's payouts and
 * refunds, and chargebacks of the bench's own payments.
 *
 * A payout or refund settlement must name the request's outcomeId, which
 * exists only once the worker has published the request; so the answer is
 * planned in advance (paid or failed, its eventId and transfer reference,
 * deterministic by seed) under the request's identity — order, milestone and
 * kind, which do not depend on how the worker interleaved the events — and
 * the settlement is built from the request as it is read (its outcomeId and
 * exact amount). Chargebacks name a payment by its gatewayReference, which
 * the bench chose itself: they are ordinary planned events.
 */
import type { InboundMessage } from '../demo/inbound-events';
import type { Random } from './random';

export type RequestKind = 'PAYOUT' | 'REFUND';

/** A payout or refund an event is expected to cause when the order's events apply in order. */
export interface ExpectedRequest {
  readonly kind: RequestKind;
  readonly milestoneId: string;
  /** The gateway the milestone was paid through (refunds go back through it). */
  readonly gateway: string;
}

export interface SettlementAnswer {
  readonly eventId: string;
  readonly type: 'PAYOUT_PAID' | 'PAYOUT_FAILED' | 'REFUND_PAID' | 'REFUND_FAILED';
  readonly gateway: string;
  readonly gatewayReference: string;
  /** For a failure: why the transfer was refused or returned. */
  readonly reason: string | null;
}

/** The share of payouts and refunds answered with a failure. */
export const failedShare = 0.04;
/** The share of milestones released in full of which one payment is charged back afterwards. */
export const chargebackShare = 0.04;
const failureReasons = ['ACCOUNT_CLOSED', 'INVALID_ACCOUNT', 'RETURNED_BY_BANK'] as const;
const payoutService = 'payout-service';

/** One request per order, milestone and kind: no event of the workload asks twice. */
export const requestKey = (orderId: string, milestoneId: string | null, kind: RequestKind) =>
  `${orderId}/${milestoneId ?? '-'}/${kind}`;

/** The answer to each expected request, in the order given; a few fail. */
export function planAnswers(
  random: Random,
  requests: readonly (ExpectedRequest & { orderId: string })[],
): Map<string, SettlementAnswer> {
  const answers = new Map<string, SettlementAnswer>();
  for (const request of requests) {
    const failed = random.chance(failedShare);
    const prefix = `${request.orderId}:${request.milestoneId}:${request.kind.toLowerCase()}`;
    answers.set(requestKey(request.orderId, request.milestoneId, request.kind), {
      eventId: `${prefix}-${failed ? 'failed' : 'paid'}`,
      type: `${request.kind}_${failed ? 'FAILED' : 'PAID'}`,
      gateway: request.kind === 'PAYOUT' ? payoutService : request.gateway,
      gatewayReference: `${request.kind === 'PAYOUT' ? 'po' : 're'}_${request.orderId}_${request.milestoneId}`,
      reason: failed ? random.pick(failureReasons) : null,
    });
  }
  return answers;
}

/** A request as published on escrow.payouts.v1 / escrow.refunds.v1 (the fields a settlement needs). */
export interface PublishedRequest {
  readonly type: string;
  readonly outcomeId: string;
  readonly orderId: string;
  readonly milestoneId?: string | null;
  readonly currency: string;
  /** A payout's: what is transferred. */
  readonly netAmount?: string;
  /** A refund's. */
  readonly amount?: string;
}

export const requestKindOf = (type: string): RequestKind | null =>
  type === 'PAYOUT_REQUESTED' ? 'PAYOUT' : type === 'REFUND_REQUESTED' ? 'REFUND' : null;

/**
 * The settlement of a published request: its planned answer, or, for a
 * request the plan did not expect, a payment under ids made from its
 * outcomeId. The amount is the request's own, so it always matches.
 */
export function settlementOf(
  request: PublishedRequest,
  answer: SettlementAnswer | undefined,
): InboundMessage {
  const kind = requestKindOf(request.type)!;
  const chosen = answer ?? {
    eventId: `${request.outcomeId}:paid`,
    type: `${kind}_PAID` as const,
    gateway: payoutService,
    gatewayReference: `unplanned_${request.outcomeId}`,
    reason: null,
  };
  const amount = (kind === 'PAYOUT' ? request.netAmount : request.amount)!;
  return {
    topic: 'escrow.settlements.v1',
    eventId: chosen.eventId,
    orderId: request.orderId,
    label: `${chosen.type} ${request.outcomeId} ${amount} ${request.currency}`,
    value: {
      eventId: chosen.eventId,
      type: chosen.type,
      orderId: request.orderId,
      milestoneId: request.milestoneId ?? null,
      outcomeId: request.outcomeId,
      gateway: chosen.gateway,
      gatewayReference: chosen.gatewayReference,
      amount,
      currency: request.currency,
      reason: chosen.reason,
      occurredAt: new Date().toISOString(),
    },
  };
}

/** The buyer's bank pulls back (part of) a payment, named by the payment's gateway and reference. */
export function chargeback(payment: {
  eventId: string;
  orderId: string;
  milestoneId: string;
  gateway: string;
  gatewayReference: string;
  amount: string;
  currency: string;
}): InboundMessage {
  return {
    topic: 'escrow.settlements.v1',
    eventId: payment.eventId,
    orderId: payment.orderId,
    label: `CHARGEBACK ${payment.gateway}/${payment.gatewayReference} ${payment.amount}`,
    value: {
      eventId: payment.eventId,
      type: 'CHARGEBACK',
      orderId: payment.orderId,
      milestoneId: payment.milestoneId,
      outcomeId: null,
      gateway: payment.gateway,
      gatewayReference: payment.gatewayReference,
      amount: payment.amount,
      currency: payment.currency,
      reason: 'FRAUDULENT',
      occurredAt: new Date().toISOString(),
    },
  };
}
