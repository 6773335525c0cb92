/**
 * Inbound messages for tests that go through the real topics, shaped by the
 * fixtures of messages.ts and keyed by their orderId as every producer keys
 * them: an order opened, a payment confirmed, a milestone reached, a refund
 * asked for; and one sendBatch of any mix of them, encoded by the registry.
 */
import type { Message, Producer } from 'kafkajs';
import type { RegistryCodec } from '../../src/codec/registry-codec';
import type { InboundTopic } from '../../src/codec/schemas';
import { validMessages } from './messages';

export interface Outgoing {
  readonly topic: InboundTopic;
  readonly orderId: string;
  readonly value: Record<string, unknown>;
}

/** ORDER_OPENED with its milestones as [milestoneId, amount], buyer and provider named after the order. */
export const opened = (orderId: string, milestones: readonly [string, string][]): Outgoing => ({
  topic: 'escrow.orders.v1',
  orderId,
  value: {
    ...validMessages['escrow.orders.v1'][0],
    eventId: `open-${orderId}`,
    orderId,
    buyerId: `buyer-${orderId}`,
    providerId: `provider-${orderId}`,
    milestones: milestones.map(([milestoneId, amount], index) => ({
      milestoneId,
      sequence: index + 1,
      amount,
      releaseCondition: 'DELIVERY_CONFIRMED',
      inspectionPeriodSeconds: 0,
    })),
  },
});

/** An INSTALLMENT through stripe; its eventId names the gateway reference. */
export const paid = (
  orderId: string,
  milestoneId: string,
  amount: string,
  reference: string,
): Outgoing => ({
  topic: 'escrow.payment-confirmed.v1',
  orderId,
  value: {
    ...validMessages['escrow.payment-confirmed.v1'][0],
    eventId: `pay-${reference}`,
    gatewayReference: reference,
    orderId,
    milestoneId,
    kind: 'INSTALLMENT',
    amount,
  },
});

export const reached = (orderId: string, milestoneId: string): Outgoing => ({
  topic: 'escrow.milestone-reached.v1',
  orderId,
  value: {
    ...validMessages['escrow.milestone-reached.v1'][0],
    eventId: `reached-${orderId}-${milestoneId}`,
    orderId,
    milestoneId,
    finalAmount: null,
    expectedVersion: null,
  },
});

export const refundAsked = (orderId: string, milestoneId: string, amount: string): Outgoing => ({
  topic: 'escrow.orders.v1',
  orderId,
  value: {
    ...validMessages['escrow.orders.v1'][1],
    eventId: `refund-${orderId}-${milestoneId}`,
    orderId,
    milestoneId,
    amount,
    expectedVersion: null,
  },
});

/** Every message twice, as an upstream that retries delivers it. */
export const twice = (messages: readonly Outgoing[]): Outgoing[] =>
  messages.flatMap((message) => [message, message]);

/** Encodes the messages and sends them in one batch, each topic's in the order given. */
export async function sendInbound(
  producer: Producer,
  codec: RegistryCodec,
  topicPrefix: string,
  outgoing: readonly Outgoing[],
): Promise<void> {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, orderId, value } of outgoing) {
    const messages = byTopic.get(`${topicPrefix}${topic}`) ?? [];
    messages.push({ key: orderId, value: await codec.encode(topic, value) });
    byTopic.set(`${topicPrefix}${topic}`, messages);
  }
  await producer.sendBatch({
    topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
  });
}
