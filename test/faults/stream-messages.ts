/**
 * The valid events of the fault stream, built with the demo's upstream
 * helpers (src/demo/inbound-events.ts) so their shape is the one every other
 * test sends, plus the order commands those helpers do not cover. Each
 * carries the inbox key the worker must file it under: the suite checks that
 * every one of them got there, however often it was killed meanwhile.
 */
import type { InboundTopic } from '../../src/codec/schemas';
import {
  disputeEvent,
  type InboundMessage,
  milestoneReached,
  orderOpened,
  paymentConfirmed,
} from '../../src/demo/inbound-events';
import { formatAmount, money } from '../../src/domain/money';

export interface StreamMessage {
  readonly topic: InboundTopic;
  /** The Kafka key: the orderId, so one order's events keep their order within a topic. */
  readonly key: string;
  readonly value: Record<string, unknown>;
  readonly eventId: string;
  /** The inbox key (CONTRACT.md): payment:["<gateway>","<reference>"] for payments, event:<eventId> otherwise. */
  readonly dedupeKey: string;
  /** A gateway callback sent again with a new eventId and timestamp: must be absorbed. */
  readonly retriedCallback: boolean;
}

export const amountText = (currency: string, minor: bigint) => formatAmount(money(currency, minor));

const asStream = (message: InboundMessage): StreamMessage => ({
  topic: message.topic,
  key: message.orderId,
  value: message.value,
  eventId: message.eventId,
  dedupeKey: `event:${message.eventId}`,
  retriedCallback: false,
});

export const streamOrderOpened = (order: Parameters<typeof orderOpened>[0]) =>
  asStream(orderOpened(order));

export const streamReached = (reached: Parameters<typeof milestoneReached>[0]) =>
  asStream(milestoneReached(reached));

export const streamDispute = (dispute: Parameters<typeof disputeEvent>[0]) =>
  asStream(disputeEvent(dispute));

export interface PaymentFields {
  eventId: string;
  gateway: string;
  gatewayReference: string;
  orderId: string;
  milestoneId: string | null;
  kind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE';
  amount: string;
  currency: string;
}

export function streamPayment(payment: PaymentFields): StreamMessage {
  // The demo helper covers milestone payments; SERVICE_FEE has no milestone.
  const built =
    payment.kind === 'SERVICE_FEE' || payment.milestoneId === null
      ? { value: { ...payment, confirmedAt: new Date().toISOString() } }
      : paymentConfirmed({ ...payment, kind: payment.kind, milestoneId: payment.milestoneId });
  return {
    topic: 'escrow.payment-confirmed.v1',
    key: payment.orderId,
    value: built.value,
    eventId: payment.eventId,
    // Written out, not taken from the domain's dedupeKey: the suite checks the worker's keys.
    dedupeKey: `payment:${JSON.stringify([payment.gateway, payment.gatewayReference])}`,
    retriedCallback: false,
  };
}

/** The same callback from a retrying gateway adapter: new eventId, later confirmedAt, same substance. */
export function retriedCallback(original: StreamMessage, eventId: string): StreamMessage {
  const later = new Date(Date.now() + 30_000).toISOString();
  return {
    ...original,
    eventId,
    value: { ...original.value, eventId, confirmedAt: later },
    retriedCallback: true,
  };
}

/** REFUND_REQUESTED and MILESTONE_CANCELLED: whole escrow.orders.v1 records. */
export function streamOrderCommand(command: {
  eventId: string;
  orderId: string;
  type: 'REFUND_REQUESTED' | 'MILESTONE_CANCELLED';
  milestoneId: string;
  amount?: string;
  reason?: string;
}): StreamMessage {
  return asStream({
    topic: 'escrow.orders.v1',
    eventId: command.eventId,
    orderId: command.orderId,
    label: `${command.type} ${command.milestoneId}`,
    value: {
      eventId: command.eventId,
      type: command.type,
      orderId: command.orderId,
      occurredAt: new Date().toISOString(),
      buyerId: null,
      providerId: null,
      currency: null,
      milestones: null,
      milestoneId: command.milestoneId,
      amount: command.amount ?? null,
      reason: command.reason ?? null,
      expectedVersion: null,
    },
  });
}

export type SettlementType =
  | 'PAYOUT_PAID'
  | 'PAYOUT_FAILED'
  | 'REFUND_PAID'
  | 'REFUND_FAILED'
  | 'CHARGEBACK'
  | 'CHARGEBACK_REVERSED';

/** An escrow.settlements.v1 record, filed under settlement:["<gateway>","<reference>","<type>"]. */
export function streamSettlement(settlement: {
  eventId: string;
  type: SettlementType;
  orderId: string;
  milestoneId: string | null;
  outcomeId: string | null;
  gateway: string;
  gatewayReference: string;
  amount: string;
  currency: string;
  reason?: string;
}): StreamMessage {
  return {
    topic: 'escrow.settlements.v1',
    key: settlement.orderId,
    value: {
      ...settlement,
      reason: settlement.reason ?? null,
      occurredAt: new Date().toISOString(),
    },
    eventId: settlement.eventId,
    // Written out, not taken from the domain's dedupeKey: the suite checks the worker's keys.
    dedupeKey: `settlement:${JSON.stringify([settlement.gateway, settlement.gatewayReference, settlement.type])}`,
    retriedCallback: false,
  };
}

/** A settlement sent again by its sender: new eventId and occurredAt, same substance. */
export function redeliveredSettlement(original: StreamMessage, eventId: string): StreamMessage {
  const later = new Date(Date.now() + 30_000).toISOString();
  return {
    ...original,
    eventId,
    value: { ...original.value, eventId, occurredAt: later },
    retriedCallback: true,
  };
}
