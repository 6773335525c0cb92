/**
 * The messages the demo plays the upstream services with: the marketplace,
 * the gateway adapters, the services that report progress, the dispute desk
 * and the payout service. Each is a whole Avro record of its topic (every optional field
 * present, null when unused), stamped with the time it is built.
 */
import type { InboundTopic } from '../codec/schemas';

export interface InboundMessage {
  readonly topic: InboundTopic;
  readonly eventId: string;
  readonly orderId: string;
  readonly value: Record<string, unknown>;
  /** How the output names it, e.g. "PAYMENT_CONFIRMED stripe/ch_1 DEPOSIT 1000.00". */
  readonly label: string;
}

export interface MilestonePlan {
  milestoneId: string;
  sequence: number;
  amount: string;
  releaseCondition: 'DELIVERY_CONFIRMED' | 'REPORT_SUBMITTED' | 'BUYER_APPROVED' | 'ANY';
  inspectionPeriodSeconds: number;
}

const now = () => new Date().toISOString();

export function orderOpened(order: {
  eventId: string;
  orderId: string;
  buyerId: string;
  providerId: string;
  currency: string;
  milestones: MilestonePlan[];
}): InboundMessage {
  return {
    topic: 'escrow.orders.v1',
    eventId: order.eventId,
    orderId: order.orderId,
    label:
      `ORDER_OPENED ${order.orderId} (${order.milestones.length} ` +
      `milestone${order.milestones.length === 1 ? '' : 's'})`,
    value: {
      ...order,
      type: 'ORDER_OPENED',
      occurredAt: now(),
      milestoneId: null,
      amount: null,
      reason: null,
      expectedVersion: null,
    },
  };
}

export function paymentConfirmed(payment: {
  eventId: string;
  gateway: string;
  gatewayReference: string;
  orderId: string;
  milestoneId: string;
  kind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL';
  amount: string;
  currency: string;
}): InboundMessage {
  return {
    topic: 'escrow.payment-confirmed.v1',
    eventId: payment.eventId,
    orderId: payment.orderId,
    label:
      `PAYMENT_CONFIRMED ${payment.gateway}/${payment.gatewayReference} ` +
      `${payment.kind} ${payment.amount} for ${payment.milestoneId}`,
    value: { ...payment, confirmedAt: now() },
  };
}

export function milestoneReached(reached: {
  eventId: string;
  orderId: string;
  milestoneId: string;
  condition: 'DELIVERY_CONFIRMED' | 'REPORT_SUBMITTED' | 'BUYER_APPROVED';
  finalAmount?: string;
}): InboundMessage {
  const final = reached.finalAmount ?? null;
  return {
    topic: 'escrow.milestone-reached.v1',
    eventId: reached.eventId,
    orderId: reached.orderId,
    label:
      `MILESTONE_REACHED ${reached.milestoneId} ${reached.condition}` +
      (final === null ? '' : ` finalAmount ${final}`),
    value: { ...reached, finalAmount: final, expectedVersion: null, occurredAt: now() },
  };
}

export function disputeEvent(dispute: {
  eventId: string;
  type: 'OPENED' | 'WITHDRAWN' | 'RESOLVED';
  orderId: string;
  milestoneId: string;
  disputeId: string;
  openedBy?: string;
  reason?: string;
  resolution?: { providerAmount: string; buyerAmount: string };
  actor?: string;
  expectedVersion?: number;
}): InboundMessage {
  const { resolution } = dispute;
  return {
    topic: 'escrow.disputes.v1',
    eventId: dispute.eventId,
    orderId: dispute.orderId,
    label:
      `DISPUTE ${dispute.type} ${dispute.disputeId} on ${dispute.milestoneId}` +
      (resolution
        ? ` provider ${resolution.providerAmount} / buyer ${resolution.buyerAmount}` +
          (dispute.expectedVersion === undefined
            ? ''
            : ` (expectedVersion ${dispute.expectedVersion})`)
        : ''),
    value: {
      ...dispute,
      openedBy: dispute.openedBy ?? null,
      reason: dispute.reason ?? null,
      resolution: resolution ?? null,
      actor: dispute.actor ?? null,
      expectedVersion: dispute.expectedVersion ?? null,
      occurredAt: now(),
    },
  };
}

export type SettlementType =
  | 'PAYOUT_PAID'
  | 'PAYOUT_FAILED'
  | 'REFUND_PAID'
  | 'REFUND_FAILED'
  | 'CHARGEBACK'
  | 'CHARGEBACK_REVERSED';

/**
 * What became of money the worker asked to move. PAYOUT_* and REFUND_* name
 * the request by its outcomeId; CHARGEBACK* name the payment by its gateway
 * reference and carry no outcomeId.
 */
export function settlement(settled: {
  eventId: string;
  type: SettlementType;
  orderId: string;
  milestoneId: string;
  outcomeId?: string;
  gateway: string;
  gatewayReference: string;
  amount: string;
  currency: string;
  reason?: string;
}): InboundMessage {
  const reason = settled.reason ?? null;
  const names = settled.outcomeId === undefined ? 'payment' : 'request';
  const named = settled.outcomeId ?? `${settled.gateway}/${settled.gatewayReference}`;
  return {
    topic: 'escrow.settlements.v1',
    eventId: settled.eventId,
    orderId: settled.orderId,
    label:
      `${settled.type} ${settled.amount} ${settled.currency} for ${settled.milestoneId}, ` +
      `${names} ${named}` +
      (settled.outcomeId === undefined
        ? ''
        : ` (via ${settled.gateway}/${settled.gatewayReference})`) +
      (reason === null ? '' : `, reason ${reason}`),
    value: {
      ...settled,
      outcomeId: settled.outcomeId ?? null,
      reason,
      occurredAt: now(),
    },
  };
}
