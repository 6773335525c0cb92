/**
 * What a decision may read besides the command: the order and its milestones
 * as stored, the fee policy in force, and the clock, all passed in.
 */
import type { FeePolicy } from '../fees';
import { MoneyError, type Money, parseAmount } from '../money';
import type {
  Chargeback,
  Disbursement,
  Milestone,
  Order,
  PaymentRecord,
  RejectionReason,
} from './types';

export interface DecisionContext {
  readonly now: Date;
  readonly order: Order | null;
  /** Every milestone of the order, as read inside the transaction. */
  readonly milestones: readonly Milestone[];
  /** The policy in force now (fees are computed at release, never at funding). */
  readonly feePolicy: FeePolicy;
  /** The provider's released gross in the order's currency over the policy's window. */
  readonly providerVolume: Money;
  /** Per milestone, the gateway references of the payments that funded it (for refunds). */
  readonly fundingReferences: Readonly<Record<string, readonly string[]>>;
  /** The payouts and refunds the command's settlement names, by outcomeId. */
  readonly disbursements?: ReadonlyMap<string, Disbursement>;
  /** The payments a chargeback names, by paymentKey. */
  readonly payments?: ReadonlyMap<string, PaymentRecord>;
  /** Chargebacks of the order's payments, by paymentKey. */
  readonly chargebacks?: ReadonlyMap<string, Chargeback>;
  /**
   * The provider's chargebacks with receivable still to recover, in the
   * order's currency, oldest first: a release nets them before paying out.
   */
  readonly receivables?: readonly Chargeback[];
}

export interface Rejection {
  readonly reason: RejectionReason;
  readonly message: string;
}

/** Parses an event's amount in the order's currency, or says why it cannot. */
export function parseEventAmount(
  text: string,
  currency: string,
  field: string,
  options: { allowZero?: boolean } = {},
): Money | Rejection {
  try {
    return parseAmount(text, currency, options);
  } catch (error) {
    if (error instanceof MoneyError) {
      return { reason: error.code, message: `${field}: ${error.message}` };
    }
    throw error;
  }
}

export const isRejection = (value: unknown): value is Rejection =>
  typeof value === 'object' && value !== null && 'reason' in value && 'message' in value;

export function findMilestone(
  context: DecisionContext,
  milestoneId: string,
): Milestone | undefined {
  return context.milestones.find((milestone) => milestone.milestoneId === milestoneId);
}
