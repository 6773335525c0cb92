/**
 * What the consumers hand the domain: one command per inbound event, fields as
 * the contract names them. Amounts are still the decimal strings of the event:
 * parsing them against the order's currency is a domain rule (AMOUNT_PRECISION,
 * INVALID_AMOUNT), so it happens here, not in the consumer.
 */
import type { ReleaseCondition } from './types';

export interface MilestonePlan {
  readonly milestoneId: string;
  readonly sequence: number;
  readonly amount: string;
  readonly releaseCondition: ReleaseCondition;
  readonly inspectionPeriodSeconds: number;
}

export interface OpenOrder {
  readonly type: 'ORDER_OPENED';
  readonly eventId: string;
  readonly orderId: string;
  readonly buyerId: string;
  readonly providerId: string;
  readonly currency: string;
  readonly milestones: readonly MilestonePlan[];
}

export type PaymentKind = 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE';

export interface ConfirmPayment {
  readonly type: 'PAYMENT_CONFIRMED';
  readonly eventId: string;
  readonly gateway: string;
  readonly gatewayReference: string;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly kind: PaymentKind;
  readonly amount: string;
  readonly currency: string;
}

export interface MarkReached {
  readonly type: 'MILESTONE_REACHED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly condition: string;
  readonly finalAmount?: string | null;
  readonly expectedVersion?: number | null;
}

export interface RequestRefund {
  readonly type: 'REFUND_REQUESTED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly amount: string;
  readonly reason: string;
  readonly expectedVersion?: number | null;
}

export interface CancelMilestone {
  readonly type: 'MILESTONE_CANCELLED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly expectedVersion?: number | null;
}

export interface CancelOrder {
  readonly type: 'ORDER_CANCELLED';
  readonly eventId: string;
  readonly orderId: string;
}

export interface OpenDispute {
  readonly type: 'DISPUTE_OPENED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly disputeId: string;
  readonly expectedVersion?: number | null;
}

export interface WithdrawDispute {
  readonly type: 'DISPUTE_WITHDRAWN';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly disputeId: string;
  readonly expectedVersion?: number | null;
}

export interface ResolveDispute {
  readonly type: 'DISPUTE_RESOLVED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
  readonly disputeId: string;
  readonly resolution: { readonly providerAmount: string; readonly buyerAmount: string };
  readonly expectedVersion?: number | null;
}

/** Raised by the timer when a milestone's inspection deadline has passed. */
export interface InspectionElapsed {
  readonly type: 'INSPECTION_ELAPSED';
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string;
}

export type MilestoneCommand =
  | MarkReached
  | RequestRefund
  | CancelMilestone
  | OpenDispute
  | WithdrawDispute
  | ResolveDispute
  | InspectionElapsed;

/**
 * What happened to money escrow-worker asked to move (escrow.settlements.v1).
 * PAYOUT_* and REFUND_* name the outcome (a PAYOUT_REQUESTED or
 * REFUND_REQUESTED) by `outcomeId`; CHARGEBACK and CHARGEBACK_REVERSED name
 * the original payment by its `gatewayReference`. Deduplicated on
 * (gateway, gatewayReference, type).
 */
export type SettlementType =
  | 'PAYOUT_PAID'
  | 'PAYOUT_FAILED'
  | 'REFUND_PAID'
  | 'REFUND_FAILED'
  | 'CHARGEBACK'
  | 'CHARGEBACK_REVERSED';

export interface Settle {
  readonly type: SettlementType;
  readonly eventId: string;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly outcomeId: string | null;
  readonly gateway: string;
  readonly gatewayReference: string;
  readonly amount: string;
  readonly currency: string;
  readonly reason: string | null;
}

export type EscrowCommand = OpenOrder | ConfirmPayment | CancelOrder | MilestoneCommand | Settle;
