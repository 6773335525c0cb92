/**
 * Collects what one command decides: changed milestones (each counted as one
 * new version), ledger transactions and outcomes, in the order they happen.
 */
import { formatAmount, isPositive, type Money, negate, zero } from '../money';
import { milestoneAmounts } from './milestone';
import type {
  AccountRef,
  Chargeback,
  Decision,
  EventOutcomeType,
  Milestone,
  LedgerKind,
  Order,
  OutcomeDraft,
  RefundReason,
  RejectionReason,
  SettlementChange,
  TransactionDraft,
} from './types';
import { outcomeTopics } from './types';

/** Which milestone, at which version, a rejection is about. */
export const aboutMilestone = (order: Order, milestone: Milestone) => ({
  orderId: order.orderId,
  milestoneId: milestone.milestoneId,
  milestoneVersion: milestone.version,
});

export class DecisionBuilder {
  private readonly transactions: TransactionDraft[] = [];
  private readonly outcomes: OutcomeDraft[] = [];
  private readonly changed = new Map<string, Milestone>();
  private order: Order | undefined;
  private readonly settlements: SettlementChange[] = [];
  private readonly chargebacks = new Map<string, Chargeback>();

  constructor(
    readonly eventId: string,
    readonly now: Date,
  ) {}

  /** The milestone as this decision will write it: one version past what was read. */
  touch(milestone: Milestone): Milestone {
    const already = this.changed.get(milestone.milestoneId);
    if (already) return already;
    const next = { ...milestone, version: milestone.version + 1 };
    this.changed.set(milestone.milestoneId, next);
    return next;
  }

  save(milestone: Milestone): Milestone {
    this.changed.set(milestone.milestoneId, milestone);
    return milestone;
  }

  saveOrder(order: Order): void {
    this.order = order;
  }

  /** Records a payout or refund settled or failed. */
  settle(change: SettlementChange): void {
    this.settlements.push(change);
  }

  /** Records a chargeback as this decision leaves it (created, recovered from, reversed). */
  saveChargeback(chargeback: Chargeback): void {
    this.chargebacks.set(chargeback.paymentKey, chargeback);
  }

  /** A chargeback as this decision has left it so far, or as it was read. */
  chargeback(read: Chargeback): Chargeback {
    return this.chargebacks.get(read.paymentKey) ?? read;
  }

  /** Records a ledger transaction; returns its index for the outcomes that report it. */
  post(transaction: TransactionDraft): number {
    this.transactions.push(transaction);
    return this.transactions.length - 1;
  }

  /** Posts a two-line transaction moving `amount` from one account to another. */
  transfer(movement: {
    kind: LedgerKind;
    orderId: string;
    milestoneId: string | null;
    from: AccountRef;
    to: AccountRef;
    amount: Money;
    memo: TransactionDraft['memo'];
  }): number {
    const { from, to, amount } = movement;
    return this.post({
      kind: movement.kind,
      orderId: movement.orderId,
      milestoneId: movement.milestoneId,
      memo: movement.memo,
      postings: [
        { account: from, amount: negate(amount) },
        { account: to, amount },
      ],
    });
  }

  event(
    type: EventOutcomeType,
    milestone: Milestone,
    transactionIndex: number | null,
    extra: Record<string, unknown> = {},
  ): void {
    this.outcomes.push({
      topic: outcomeTopics.events,
      type,
      orderId: milestone.orderId,
      milestoneId: milestone.milestoneId,
      milestoneVersion: milestone.version,
      transactionIndex,
      // Not `{ ...amounts, ...extra }`: V8 builds a literal that adds keys after a
      // spread on a slow path, several µs per outcome (see outbox.ts outcomeRecord).
      fields: Object.assign(milestoneAmounts(milestone), extra),
    });
  }

  orderEvent(type: EventOutcomeType, order: Order, extra: Record<string, unknown>): void {
    this.outcomes.push({
      topic: outcomeTopics.events,
      type,
      orderId: order.orderId,
      milestoneId: null,
      milestoneVersion: null,
      transactionIndex: null,
      fields: { state: order.state, currency: order.currency, ...extra },
    });
  }

  /**
   * Asks for the provider to be paid: `net` is what the provider receives,
   * after the fee and after `recovered` (receivable netted, see recovery.ts):
   * gross = fee + recovered + net. Nothing to pay, nothing asked.
   */
  payout(
    order: Order,
    milestone: Milestone | null,
    transactionIndex: number,
    split: { gross: Money; fee: Money; net: Money; recovered?: Money },
  ): void {
    if (!isPositive(split.net)) return;
    this.outcomes.push({
      topic: outcomeTopics.payouts,
      type: 'PAYOUT_REQUESTED',
      orderId: order.orderId,
      milestoneId: milestone?.milestoneId ?? null,
      milestoneVersion: milestone?.version ?? null,
      transactionIndex,
      fields: {
        providerId: order.providerId,
        currency: split.gross.currency,
        grossAmount: formatAmount(split.gross),
        feeAmount: formatAmount(split.fee),
        netAmount: formatAmount(split.net),
        recoveredAmount: formatAmount(split.recovered ?? zero(split.gross.currency)),
      },
    });
  }

  refund(
    target: { orderId: string; buyerId: string; milestone: Milestone | null },
    transactionIndex: number,
    amount: Money,
    reason: RefundReason,
    gatewayReferences: readonly string[],
  ): void {
    this.outcomes.push({
      topic: outcomeTopics.refunds,
      type: 'REFUND_REQUESTED',
      orderId: target.orderId,
      milestoneId: target.milestone?.milestoneId ?? null,
      milestoneVersion: target.milestone?.version ?? null,
      transactionIndex,
      fields: {
        buyerId: target.buyerId,
        currency: amount.currency,
        amount: formatAmount(amount),
        reason,
        gatewayReferences: [...gatewayReferences],
      },
    });
  }

  applied(): Decision {
    const decision: Decision = {
      status:
        this.transactions.length + this.outcomes.length + this.changed.size > 0 || this.order
          ? 'APPLIED'
          : 'UNCHANGED',
      order: this.order,
      milestones: [...this.changed.values()],
      transactions: this.transactions,
      outcomes: this.outcomes,
    };
    if (this.settlements.length === 0 && this.chargebacks.size === 0) return decision;
    return {
      ...decision,
      settlements: this.settlements,
      chargebacks: [...this.chargebacks.values()],
    };
  }

  /** Kept for later: `awaiting` names what it waits for (a payment's key, an outcome). */
  kept(awaiting: string): Decision {
    return { status: 'KEPT', awaiting, milestones: [], transactions: [], outcomes: [] };
  }

  /**
   * A business rejection: an EVENT_REJECTED outcome and no state change, except
   * ledger movements that return money which must not stay anywhere (a payment
   * in the wrong currency is refunded at once).
   */
  rejected(
    reason: RejectionReason,
    message: string,
    about: { orderId: string; milestoneId: string | null; milestoneVersion: number | null },
  ): Decision {
    this.outcomes.push({
      topic: outcomeTopics.events,
      type: 'EVENT_REJECTED',
      orderId: about.orderId,
      milestoneId: about.milestoneId,
      milestoneVersion: about.milestoneVersion,
      transactionIndex: null,
      fields: { reason, message, rejectedEventId: this.eventId },
    });
    return {
      status: 'REJECTED',
      reason,
      message,
      order: undefined,
      milestones: [],
      transactions: this.transactions,
      outcomes: this.outcomes,
    };
  }
}
