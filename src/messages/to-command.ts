/**
 * Turns a validated inbound message into the domain command it asks for. The
 * validators have already required each type's fields, so the non-null
 * assertions here restate what was checked.
 */
import type { EscrowCommand } from '../domain/escrow';
import type {
  DisputeMessage,
  MilestoneReachedMessage,
  OrderMessage,
  PaymentConfirmedMessage,
  SettlementMessage,
} from './inbound';

export function orderCommand(message: OrderMessage): EscrowCommand {
  const { eventId, orderId } = message;
  switch (message.type) {
    case 'ORDER_OPENED':
      return {
        type: 'ORDER_OPENED',
        eventId,
        orderId,
        buyerId: message.buyerId!,
        providerId: message.providerId!,
        currency: message.currency!,
        milestones: message.milestones!,
      };
    case 'REFUND_REQUESTED':
      return {
        type: 'REFUND_REQUESTED',
        eventId,
        orderId,
        milestoneId: message.milestoneId!,
        amount: message.amount!,
        reason: message.reason!,
        expectedVersion: message.expectedVersion,
      };
    case 'MILESTONE_CANCELLED':
      return {
        type: 'MILESTONE_CANCELLED',
        eventId,
        orderId,
        milestoneId: message.milestoneId!,
        expectedVersion: message.expectedVersion,
      };
    case 'ORDER_CANCELLED':
      return { type: 'ORDER_CANCELLED', eventId, orderId };
  }
}

export function paymentCommand(message: PaymentConfirmedMessage): EscrowCommand {
  const { confirmedAt: _confirmedAt, ...fields } = message;
  return { type: 'PAYMENT_CONFIRMED', ...fields };
}

export function reachedCommand(message: MilestoneReachedMessage): EscrowCommand {
  const { occurredAt: _occurredAt, ...fields } = message;
  return { type: 'MILESTONE_REACHED', ...fields };
}

export function disputeCommand(message: DisputeMessage): EscrowCommand {
  const { eventId, orderId, milestoneId, disputeId, expectedVersion } = message;
  const base = { eventId, orderId, milestoneId, disputeId, expectedVersion };
  switch (message.type) {
    case 'OPENED':
      return { type: 'DISPUTE_OPENED', ...base };
    case 'WITHDRAWN':
      return { type: 'DISPUTE_WITHDRAWN', ...base };
    case 'RESOLVED':
      return { type: 'DISPUTE_RESOLVED', ...base, resolution: message.resolution! };
  }
}

export function settlementCommand(message: SettlementMessage): EscrowCommand {
  const { occurredAt: _occurredAt, outcomeId, ...fields } = message;
  return { ...fields, outcomeId: outcomeId === null ? null : outcomeId.toLowerCase() };
}
