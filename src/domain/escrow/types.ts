/**
 * The escrow domain's vocabulary: orders, milestones, ledger postings and the
 * outcomes a decision publishes. Amounts are Money (bigint minor units); the
 * domain never reads the clock or touches storage.
 */
import type { Money } from '../money';

export type MilestoneState =
  | 'PENDING_FUNDING'
  | 'PARTIALLY_FUNDED'
  | 'FUNDED'
  | 'AWAITING_RELEASE'
  | 'DISPUTED'
  | 'RELEASED'
  | 'REFUNDED'
  | 'CANCELLED';

export const terminalStates: ReadonlySet<MilestoneState> = new Set([
  'RELEASED',
  'REFUNDED',
  'CANCELLED',
]);

export type ReleaseCondition = 'DELIVERY_CONFIRMED' | 'REPORT_SUBMITTED' | 'BUYER_APPROVED' | 'ANY';

export interface Order {
  readonly orderId: string;
  readonly buyerId: string;
  readonly providerId: string;
  readonly currency: string;
  readonly state: 'OPEN' | 'CANCELLED';
}

export interface Milestone {
  readonly orderId: string;
  readonly milestoneId: string;
  readonly sequence: number;
  readonly currency: string;
  /** The buyer's original commitment, kept for the audit trail. */
  readonly originalAmount: Money;
  /** What must be funded now: refunds lower it, a higher finalAmount raises it. */
  readonly amount: Money;
  readonly releaseCondition: ReleaseCondition;
  readonly inspectionPeriodSeconds: number;
  readonly state: MilestoneState;
  readonly version: number;
  readonly funded: Money;
  readonly held: Money;
  readonly disputed: Money;
  /** Gross released to the provider; `fees` is the platform's part of it. */
  readonly released: Money;
  readonly fees: Money;
  readonly refunded: Money;
  readonly reached: boolean;
  readonly reachedCondition: string | null;
  readonly finalAmount: Money | null;
  /** When the inspection period ends; null before reached and while disputed. */
  readonly inspectionDeadline: Date | null;
  /** The inspection time left when a dispute paused the clock. */
  readonly inspectionRemainingMs: number | null;
  readonly disputeId: string | null;
}

export type AccountKind =
  | 'GATEWAY_CLEARING'
  | 'ESCROW_HOLD'
  | 'DISPUTED_FUNDS'
  | 'PROVIDER_PAYABLE'
  | 'BUYER_REFUND_PAYABLE'
  | 'PROVIDER_RECEIVABLE'
  | 'PLATFORM_REVENUE';

export interface AccountRef {
  readonly kind: AccountKind;
  readonly currency: string;
  readonly orderId?: string;
  readonly milestoneId?: string;
  readonly partyId?: string;
}

/** One line of a ledger transaction: positive adds to the account, negative takes from it. */
export interface Posting {
  readonly account: AccountRef;
  readonly amount: Money;
}

export type LedgerKind =
  | 'FUNDING'
  | 'OVERPAYMENT_REFUND'
  | 'CURRENCY_MISMATCH_REFUND'
  | 'SERVICE_FEE'
  | 'RELEASE'
  | 'REFUND'
  | 'DISPUTE_FREEZE'
  | 'DISPUTE_UNFREEZE'
  | 'DISPUTE_RESOLUTION'
  | 'PAYOUT_SETTLEMENT'
  | 'REFUND_SETTLEMENT'
  | 'CHARGEBACK'
  | 'CHARGEBACK_REVERSAL';

export interface TransactionDraft {
  readonly kind: LedgerKind;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly postings: readonly Posting[];
  /** Facts an auditor needs beside the amounts (fee policy, original intent, reason). */
  readonly memo: Readonly<Record<string, string | number | boolean | null>>;
  /** Set for releases: the provider's released gross, for volume-tiered fees. */
  readonly release?: { providerId: string; gross: Money; fee: Money };
}

export const outcomeTopics = {
  payouts: 'escrow.payouts.v1',
  refunds: 'escrow.refunds.v1',
  events: 'escrow.events.v1',
} as const;
export type OutcomeTopic = (typeof outcomeTopics)[keyof typeof outcomeTopics];

export type EventOutcomeType =
  | 'ORDER_OPENED'
  | 'MILESTONE_PARTIALLY_FUNDED'
  | 'MILESTONE_FUNDED'
  | 'MILESTONE_REACHED'
  | 'MILESTONE_RELEASED'
  | 'FUNDS_REFUNDED'
  | 'DISPUTE_OPENED'
  | 'DISPUTE_WITHDRAWN'
  | 'DISPUTE_RESOLVED'
  | 'MILESTONE_CANCELLED'
  | 'PAYOUT_SETTLED'
  | 'PAYOUT_FAILED'
  | 'REFUND_SETTLED'
  | 'REFUND_FAILED'
  | 'CHARGEBACK_APPLIED'
  | 'CHARGEBACK_REVERSED'
  | 'EVENT_REJECTED';

export type RefundReason =
  | 'PARTIAL_COMPLETION'
  | 'DISPUTE'
  | 'CANCELLED'
  | 'OVERPAYMENT'
  | 'CURRENCY_MISMATCH'
  | 'REQUESTED';

export type RejectionReason =
  | 'CONFLICT'
  | 'INVALID_STATE'
  | 'CURRENCY_MISMATCH'
  | 'AMOUNT_PRECISION'
  | 'INVALID_AMOUNT'
  | 'OVER_REFUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'UNKNOWN_MILESTONE'
  | 'UNKNOWN_ORDER'
  | 'UNKNOWN_CURRENCY'
  | 'CONDITION_NOT_MET'
  | 'INVALID_ORDER'
  | 'SETTLEMENT_MISMATCH';

/**
 * An outcome before storage gives it an outcomeId and the id of the ledger
 * transaction it reports (`transactionIndex` points into the decision's list).
 */
export interface OutcomeDraft {
  readonly topic: OutcomeTopic;
  readonly type: EventOutcomeType | 'PAYOUT_REQUESTED' | 'REFUND_REQUESTED';
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly milestoneVersion: number | null;
  readonly transactionIndex: number | null;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A payout or refund escrow-worker asked for (a PAYOUT_REQUESTED or
 * REFUND_REQUESTED outcome) and what became of it. `amount` is what is to
 * leave the platform: the payout's net, the refund's amount. A retry is a
 * new request for the same money; `rootOutcomeId` names the first.
 */
export interface Disbursement {
  readonly outcomeId: string;
  readonly kind: 'PAYOUT' | 'REFUND';
  readonly orderId: string;
  readonly milestoneId: string | null;
  /** The provider paid or the buyer refunded. */
  readonly partyId: string;
  readonly amount: Money;
  readonly state: 'REQUESTED' | 'PAID' | 'FAILED' | 'RETRIED';
  readonly rootOutcomeId: string;
}

/** A gateway payment as stored, for the chargeback that names it. */
export interface PaymentRecord {
  readonly gateway: string;
  readonly gatewayReference: string;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly amount: Money;
  /**
   * The part that went into its milestone; the rest was refunded at once
   * (OVERPAYMENT, CURRENCY_MISMATCH) or was a service fee's revenue. A
   * chargeback takes back from the milestone at most this much.
   */
  readonly applied: Money;
}

/**
 * A chargeback and where its money came from: the milestone's hold, its
 * disputed funds, what was released (the fee reversed from revenue, the net
 * owed back by the provider as a receivable) and, past all of those, the
 * platform. `recovered` is how much of the receivable later releases netted.
 */
export interface Chargeback {
  /** The payment's inbox key (paymentKey): one chargeback per payment. */
  readonly paymentKey: string;
  readonly gateway: string;
  readonly gatewayReference: string;
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly providerId: string;
  readonly buyerId: string;
  readonly amount: Money;
  readonly fromHeld: Money;
  readonly fromDisputed: Money;
  readonly feeReversed: Money;
  readonly receivable: Money;
  readonly fromPlatform: Money;
  readonly recovered: Money;
  readonly reversed: boolean;
}

/** What a decision changes beyond the order's milestones. */
export interface SettlementChange {
  readonly outcomeId: string;
  readonly state: 'PAID' | 'FAILED';
  readonly reason: string | null;
  readonly gateway: string;
  readonly gatewayReference: string;
}

export interface Decision {
  readonly status: 'APPLIED' | 'REJECTED' | 'KEPT' | 'UNCHANGED';
  /** For KEPT: what it waits for besides its order (a payment's inbox key, an outcome). */
  readonly awaiting?: string;
  /** Payouts and refunds settled or failed by this decision. */
  readonly settlements?: readonly SettlementChange[];
  /** Chargebacks created, reversed or with more of their receivable recovered, as they now stand. */
  readonly chargebacks?: readonly Chargeback[];
  readonly reason?: RejectionReason;
  readonly message?: string;
  /** The order when the decision created or changed it. */
  readonly order?: Order;
  /** Every milestone the decision changed, each with its version incremented once. */
  readonly milestones: readonly Milestone[];
  readonly transactions: readonly TransactionDraft[];
  readonly outcomes: readonly OutcomeDraft[];
}
