/**
 * The messages the demo plays the upstream services with: the marketplace,
 * the gateway adapters, the services that report progress and the dispute
 * desk. Each is a whole Avro record of its topic (every optional field
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
    label: `ORDER_OPENED ${order.orderId} (${order.milestones.length} milestones)`,
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
