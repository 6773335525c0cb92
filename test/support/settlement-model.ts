/**
 * An independent model of the money loop for the domain's property test
 * (DESIGN.md invariants 4 and 6, CONTRACT.md escrow.settlements.v1,
 * docs/settlements.md). It watches every decision the simulator books and
 * works out, from the commands and its own records rather than from the
 * decision's postings, how each settlement must be answered
 * (settlement-answers.ts), where a chargeback's money comes from and what its
 * reversal gives back (settlement-chargebacks.ts), what each release
 * recovers (settlement-releases.ts), and what every kind of account must
 * hold (settlement-balances.ts). Each step returns the rules it saw broken,
 * in words.
 */
import type { Decision, EscrowCommand, Milestone, Settle } from '../../src/domain/escrow';
import { isSettlement } from '../../src/domain/escrow';
import type { BookedDecision, RequestedDisbursement } from './escrow-simulator';
import { answerOf } from './settlement-answers';
import {
  chargebackProblems,
  chargebackSources,
  reversalProblems,
  storedChargebackProblems,
} from './settlement-chargebacks';
import {
  minorOf,
  type ModelChargeback,
  type ModelPayment,
  type ModelRequest,
  paymentId,
  readMinor,
  type SettlementRecords,
  type Totals,
  totalsFor,
} from './settlement-figures';
import { SettlementInbox } from './settlement-inbox';
import { recoverReleases } from './settlement-releases';

const settledTypes: Readonly<Record<string, string>> = {
  PAYOUT_PAID: 'PAYOUT_SETTLED',
  PAYOUT_FAILED: 'PAYOUT_FAILED',
  REFUND_PAID: 'REFUND_SETTLED',
  REFUND_FAILED: 'REFUND_FAILED',
};

export class SettlementModel implements SettlementRecords {
  readonly requests = new Map<string, ModelRequest>();
  readonly payments = new Map<string, ModelPayment>();
  readonly chargebacks = new Map<string, ModelChargeback>();
  readonly orders = new Map<string, { state: 'OPEN' | 'CANCELLED'; providerId: string }>();
  readonly totals = new Map<string, Totals>();
  readonly inbox = new SettlementInbox();
  /** What happened at least once: the property test counts runs per kind. */
  readonly seen = new Set<string>();
  /** Settlement transactions in the ledger per request, and the money (root requests) paid. */
  private readonly settledInLedger = new Map<string, number>();
  private readonly paidRoots = new Set<string>();
  /** Chargebacks kept for their payment or order, by eventId. */
  private readonly keptChargebacks = new Map<string, Settle>();

  /** Books one decision; returns the rules it broke. */
  observe({ command, decision, milestonesBefore, requested }: BookedDecision): string[] {
    const problems: string[] = [];
    if (decision.order) {
      const { orderId, state, providerId } = decision.order;
      this.orders.set(orderId, { state, providerId });
    }
    for (const request of requested) this.request(request, problems);
    if (command.type === 'PAYMENT_CONFIRMED') this.payment(command, decision, milestonesBefore);
    if (isSettlement(command)) this.settlement(command, decision, milestonesBefore, problems);
    this.releases(decision, problems);
    this.ledgerSettlements(decision, problems);
    problems.push(...storedChargebackProblems(decision, this.chargebacks));
    return problems;
  }

  /** What `payouts retry` / `refunds retry` made: the failed request RETRIED, a new one open. */
  retried(request: RequestedDisbursement): void {
    const failed = this.requests.get(request.retryOf!)!;
    failed.state = 'RETRIED';
    this.requests.set(request.outcomeId, {
      ...failed,
      outcomeId: request.outcomeId,
      retryOf: failed.outcomeId,
      state: 'REQUESTED',
    });
    this.seen.add(failed.kind === 'PAYOUT' ? 'payoutRetried' : 'refundRetried');
  }

  /** Kept chargebacks that should have been replayed: their order is open and their payment in. */
  stuckChargebacks(): string[] {
    return [...this.keptChargebacks.values()]
      .filter(
        (command) =>
          this.orders.has(command.orderId) &&
          this.payments.has(paymentId(command.gateway, command.gatewayReference)),
      )
      .map(
        (command) => `${command.type} ${command.eventId} is still kept after its payment arrived`,
      );
  }

  totalsOf(currency: string): Totals {
    return totalsFor(this.totals, currency);
  }

  private request({ outcomeId, outcome }: RequestedDisbursement, problems: string[]): void {
    const fields = outcome.fields as Record<string, string>;
    const payout = outcome.type === 'PAYOUT_REQUESTED';
    const currency = fields.currency!;
    const amount = minorOf(payout ? fields.netAmount! : fields.amount!, currency);
    if (amount <= 0n) problems.push(`${outcome.type} ${outcomeId} asks for ${amount}`);
    this.requests.set(outcomeId, {
      outcomeId,
      kind: payout ? 'PAYOUT' : 'REFUND',
      orderId: outcome.orderId,
      currency,
      amount,
      root: outcomeId,
      retryOf: null,
      state: 'REQUESTED',
    });
  }

  /** A payment is received when its decision moved it (not kept, its amount readable). */
  private payment(
    command: EscrowCommand & { type: 'PAYMENT_CONFIRMED' },
    decision: Decision,
    before: ReadonlyMap<string, Milestone>,
  ) {
    const amount = readMinor(command.amount, command.currency);
    if (decision.status === 'KEPT' || amount === null) return;
    this.totalsOf(command.currency).received += amount;
    if (command.kind === 'SERVICE_FEE' && decision.status === 'APPLIED')
      this.totalsOf(command.currency).serviceFees += amount;
    // What reached its milestone: how much the milestone's funding grew in this decision
    // (nothing for a payment refunded at once or a service fee).
    const after = decision.milestones.find(
      (m) => m.orderId === command.orderId && m.milestoneId === command.milestoneId,
    );
    const was = command.milestoneId === null ? undefined : before.get(command.milestoneId);
    const applied =
      after && after.currency === command.currency
        ? after.funded.minor - (was?.orderId === command.orderId ? was.funded.minor : 0n)
        : 0n;
    this.payments.set(paymentId(command.gateway, command.gatewayReference), {
      orderId: command.orderId,
      milestoneId: command.milestoneId,
      currency: command.currency,
      amount,
      applied: applied > 0n ? applied : 0n,
    });
  }

  private settlement(
    command: Settle,
    decision: Decision,
    before: ReadonlyMap<string, Milestone>,
    problems: string[],
  ): void {
    const answer = answerOf(command, this);
    const named = `${command.type} ${command.gatewayReference}`;
    const reason = decision.reason;
    if (
      answer.status !== decision.status ||
      (answer.status === 'REJECTED' && !answer.reasons.includes(reason!))
    ) {
      const expected = answer.status === 'REJECTED' ? answer.reasons.join('|') : answer.status;
      problems.push(`${named}: expected ${expected}, got ${decision.status} ${reason ?? ''}`);
      return;
    }
    const chargeback = command.type === 'CHARGEBACK' || command.type === 'CHARGEBACK_REVERSED';
    const wasKept = this.keptChargebacks.delete(command.eventId);
    if (decision.status !== 'APPLIED') {
      if (decision.transactions.length > 0 || decision.milestones.length > 0)
        problems.push(`${named} was ${decision.status} ${reason ?? ''} but moved money`);
      if (decision.status === 'KEPT' && chargeback)
        this.keptChargebacks.set(command.eventId, command);
      if (reason !== undefined) this.seen.add(`rejected ${reason}`);
      if (reason !== undefined && this.requests.get(command.outcomeId ?? '')?.state === 'RETRIED')
        this.seen.add('retriedRefused');
      return;
    }
    if (wasKept) this.seen.add('keptChargebackApplied');
    if (command.type === 'CHARGEBACK') this.chargeback(command, decision, before, problems);
    else if (command.type === 'CHARGEBACK_REVERSED')
      this.reversal(command, decision, before, problems);
    else this.disbursement(command, decision, problems);
  }

  private disbursement(command: Settle, decision: Decision, problems: string[]): void {
    const request = this.requests.get(command.outcomeId!)!;
    const paid = command.type.endsWith('_PAID');
    const types = decision.outcomes.map((outcome) => outcome.type);
    if (types.join() !== settledTypes[command.type])
      problems.push(`${command.type} ${request.outcomeId} published ${types.join()}`);
    request.state = paid ? 'PAID' : 'FAILED';
    const totals = this.totalsOf(request.currency);
    if (paid && request.kind === 'PAYOUT') totals.paidOut += request.amount;
    if (paid && request.kind === 'REFUND') totals.refundsPaid += request.amount;
    this.seen.add(`${request.kind === 'PAYOUT' ? 'payout' : 'refund'}${paid ? 'Paid' : 'Failed'}`);
    if (paid && request.retryOf !== null) this.seen.add('retryPaid');
  }

  private chargeback(
    command: Settle,
    decision: Decision,
    before: ReadonlyMap<string, Milestone>,
    problems: string[],
  ): void {
    const key = paymentId(command.gateway, command.gatewayReference);
    const payment = this.payments.get(key)!;
    const order = this.orders.get(payment.orderId)!;
    const amount = readMinor(command.amount, command.currency)!;
    const parts = chargebackSources(payment, amount, before, this.chargebacks.values());
    problems.push(...chargebackProblems(command, decision, parts, before));
    const chargeback = { ...parts, providerId: order.providerId, recovered: 0n, reversed: false };
    this.chargebacks.set(key, chargeback);
    const totals = this.totalsOf(payment.currency);
    totals.chargedBack += amount;
    totals.receivablesCreated += parts.receivable;
    if (parts.fromHeld > 0n) this.seen.add('chargebackFromHeld');
    if (parts.fromDisputed > 0n) this.seen.add('chargebackFromDisputed');
    if (parts.receivable + parts.feeReversed > 0n) this.seen.add('chargebackAfterRelease');
    if (parts.fromPlatform > 0n) this.seen.add('chargebackFromPlatform');
  }

  private reversal(
    command: Settle,
    decision: Decision,
    before: ReadonlyMap<string, Milestone>,
    problems: string[],
  ): void {
    const chargeback = this.chargebacks.get(paymentId(command.gateway, command.gatewayReference))!;
    const orderOpen = this.orders.get(chargeback.orderId)?.state === 'OPEN';
    const figures = reversalProblems(command, decision, chargeback, before, orderOpen);
    problems.push(...figures.problems);
    chargeback.reversed = true;
    const totals = this.totalsOf(chargeback.currency);
    totals.chargebacksReversed += chargeback.amount;
    totals.receivablesCancelled += chargeback.receivable - chargeback.recovered;
    this.seen.add('reversed');
    if (decision.transactions.some((t) => t.kind === 'RELEASE'))
      this.seen.add('releasedByReversal');
    if (chargeback.recovered > 0n) this.seen.add('reversalRepaidProvider');
    if (figures.usable > 0n) this.seen.add('reversalReturnedToMilestone');
    if (figures.toBuyer > 0n) this.seen.add('reversalRefundedBuyer');
  }

  /** Releases net the receivables; their fees are revenue. */
  private releases(decision: Decision, problems: string[]): void {
    const recovery = recoverReleases(decision, this);
    problems.push(...recovery.problems);
    for (const release of recovery.releases) {
      const totals = this.totalsOf(release.currency);
      totals.fees += release.fee;
      totals.recoveredByReleases += release.recovered;
      if (release.recovered === 0n) continue;
      this.seen.add(release.otherOrder ? 'nettedAcrossOrders' : 'netted');
      if (release.whole) this.seen.add('nettedWhole');
    }
  }

  /** Each request is settled in the ledger at most once, and each money paid at most once. */
  private ledgerSettlements(decision: Decision, problems: string[]): void {
    for (const transaction of decision.transactions) {
      if (transaction.kind !== 'PAYOUT_SETTLEMENT' && transaction.kind !== 'REFUND_SETTLEMENT')
        continue;
      const outcomeId = String(transaction.memo.outcomeId);
      const count = (this.settledInLedger.get(outcomeId) ?? 0) + 1;
      this.settledInLedger.set(outcomeId, count);
      if (count > 1) problems.push(`${outcomeId} is settled ${count} times in the ledger`);
      const root = this.requests.get(outcomeId)?.root ?? outcomeId;
      if (this.paidRoots.has(root) && count === 1)
        problems.push(`the money of ${root} is paid a second time, by ${outcomeId}`);
      this.paidRoots.add(root);
    }
  }
}
