/**
 * The pipeline's plan without a database, for the domain's tests: each
 * command is planned as a slice of one by src/pipeline/slice-plan.ts (the
 * inbox, kept events replayed when their order opens, the state the next
 * event decides on), and what the plan decides is booked here as a ledger
 * would book it: balances per account, and the invariants of DESIGN.md
 * checked after every step. The real storage is tested against Postgres.
 */
import { defaultFeePolicy, type FeePolicy } from '../../src/domain/fees';
import {
  accountCode,
  type Chargeback,
  type ConfirmPayment,
  type Decision,
  type EscrowCommand,
  type Milestone,
  type Order,
  type OutcomeDraft,
  type TransactionDraft,
} from '../../src/domain/escrow';
import { inboxKeyOf } from '../../src/pipeline/inbox-key';
import { emptySliceState, type SliceState } from '../../src/pipeline/slice';
import { storeKeptEvents } from './plan-carry-over';
import { SlicePlan } from '../../src/pipeline/slice-plan';
import { add, formatAmount, MoneyError, parseAmount } from '../../src/domain/money';

/** A payout or refund asked for, with the outcome id the simulator gave it. */
export interface RequestedDisbursement {
  readonly outcomeId: string;
  readonly outcome: OutcomeDraft;
  /** For a request made by `retry`: the failed request it replaces. */
  readonly retryOf?: string;
}

/** One decision as the simulator booked it, for a test that watches every step. */
export interface BookedDecision {
  readonly command: EscrowCommand;
  readonly decision: Decision;
  /** The milestones as the decision read them (booked ones replaced after it). */
  readonly milestonesBefore: ReadonlyMap<string, Milestone>;
  /** The payouts and refunds the decision asked for, with their outcome ids. */
  readonly requested: readonly RequestedDisbursement[];
}

export class EscrowSimulator {
  readonly milestones = new Map<string, Milestone>();
  readonly balances = new Map<string, bigint>();
  readonly transactions: TransactionDraft[] = [];
  readonly decisions: Decision[] = [];
  /** The command each decision answers (a replayed kept event's own), in the same order. */
  readonly decided: EscrowCommand[] = [];
  /** Chargebacks as the decisions booked so far left them (the plan's state may be a step ahead). */
  private readonly bookedChargebacks = new Map<string, Chargeback>();
  /**
   * What the booked transactions released per milestone, and received per
   * payment ("<gateway>:<reference>"), summed as they are booked: the checks
   * after every step read these instead of scanning the whole ledger.
   */
  private readonly releasedByMilestone = new Map<string, { gross: bigint; fees: bigint }>();
  private readonly receipts = new Map<string, { received: bigint; lines: number }>();
  /**
   * Every payment delivered (not a repeat), with the status of its latest
   * decision and its amount in minor units (0 when unreadable in its currency).
   */
  private readonly payments = new Map<
    string,
    { payment: ConfirmPayment; status: string; minor: bigint }
  >();
  /** What the pipeline's plan decides on, kept from one delivery to the next. */
  private readonly state: SliceState;
  private keptIds = 0;
  now: Date;
  /** Called after each decision is booked (a replayed kept event's too), in order. */
  onBooked: ((booked: BookedDecision) => void) | undefined;

  constructor(
    start: Date,
    readonly feePolicy: FeePolicy = defaultFeePolicy('0.10'),
  ) {
    this.now = start;
    this.state = emptySliceState(start, feePolicy);
  }

  /** The order the deliveries opened, if any. */
  get order(): Order | null {
    for (const order of this.state.orders.values()) if (order) return order;
    return null;
  }

  /** An order by id, as the next delivery reads it; null while not opened. */
  orderOf(orderId: string): Order | null {
    return this.state.orders.get(orderId) ?? null;
  }

  /**
   * Delivers a command as a consumer would, through the pipeline's own plan
   * (src/pipeline/slice-plan.ts, a slice of one): returns its decision, or
   * 'DUPLICATE' / 'IDEMPOTENCY_CONFLICT'. Kept events replayed with it are
   * applied too, in order.
   */
  deliver(command: EscrowCommand): Decision | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT' {
    const event = {
      topic: 'simulated',
      partition: null,
      offset: null,
      occurredAt: this.now,
      command,
    };
    const plan = new SlicePlan({ ...this.state, now: this.now, feePolicy: this.feePolicy });
    const [result] = plan.planAll([{ event, ...inboxKeyOf(command) }]);
    if (result!.verdict === 'DUPLICATE' || result!.verdict === 'IDEMPOTENCY_CONFLICT') {
      return result!.verdict;
    }
    for (const decided of plan.decided) this.apply(decided.event.command, decided.decision);
    storeKeptEvents(this.state, () => String((this.keptIds += 1)));
    return plan.decided[0]!.decision;
  }

  /**
   * The payouts and refunds asked for so far, as the write step records them
   * (src/store/disbursements.ts), each with the outcome id the simulator gave
   * it ("outcome-1", ...), for settlements to name.
   */
  readonly requested: RequestedDisbursement[] = [];

  private recordRequests(decision: Decision): RequestedDisbursement[] {
    const made: RequestedDisbursement[] = [];
    for (const outcome of decision.outcomes) {
      if (outcome.type !== 'PAYOUT_REQUESTED' && outcome.type !== 'REFUND_REQUESTED') continue;
      const outcomeId = `outcome-${this.requested.length + 1}`;
      this.requested.push({ outcomeId, outcome });
      made.push({ outcomeId, outcome });
      const fields = outcome.fields as Record<string, string>;
      const payout = outcome.type === 'PAYOUT_REQUESTED';
      this.state.disbursements.set(outcomeId, {
        outcomeId,
        kind: payout ? 'PAYOUT' : 'REFUND',
        orderId: outcome.orderId,
        milestoneId: outcome.milestoneId,
        partyId: payout ? fields.providerId! : fields.buyerId!,
        amount: parseAmount(payout ? fields.netAmount! : fields.amount!, fields.currency!),
        state: 'REQUESTED',
        rootOutcomeId: outcomeId,
      });
    }
    return made;
  }

  /**
   * What `escrow-worker payouts retry` / `refunds retry` does to a failed
   * request: a new request with a new outcome id for the same money, the
   * failed one RETRIED. No ledger movement: the money stayed payable.
   * Returns the new request.
   */
  retry(outcomeId: string): RequestedDisbursement {
    const failed = this.state.disbursements.get(outcomeId);
    if (failed?.state !== 'FAILED') {
      throw new Error(`only a FAILED request is retried; ${outcomeId} is ${failed?.state}`);
    }
    const original = this.requested.find((request) => request.outcomeId === outcomeId)!;
    const retried: RequestedDisbursement = {
      outcomeId: `outcome-${this.requested.length + 1}`,
      outcome: original.outcome,
      retryOf: outcomeId,
    };
    this.requested.push(retried);
    this.state.disbursements.set(outcomeId, { ...failed, state: 'RETRIED' });
    this.state.disbursements.set(retried.outcomeId, {
      ...failed,
      outcomeId: retried.outcomeId,
      state: 'REQUESTED',
    });
    return retried;
  }

  /** The requests' current states, as the next settlement reads them. */
  disbursement(outcomeId: string) {
    return this.state.disbursements.get(outcomeId);
  }

  /** A chargeback as the plan left it, by its payment's inbox key. */
  chargeback(paymentKey: string) {
    return this.state.chargebacks.get(paymentKey);
  }

  private apply(command: EscrowCommand, decision: Decision): void {
    const milestonesBefore = this.onBooked ? new Map(this.milestones) : this.milestones;
    const requested = this.recordRequests(decision);
    this.decisions.push(decision);
    this.decided.push(command);
    for (const transaction of decision.transactions) {
      const net = new Map<string, bigint>();
      for (const posting of transaction.postings) {
        // The ledger service and the database refuse zero postings; so does the simulator.
        if (posting.amount.minor === 0n) throw new Error(`${transaction.kind} has a zero posting`);
        const code = accountCode(posting.account);
        const currency = posting.amount.currency;
        net.set(currency, (net.get(currency) ?? 0n) + posting.amount.minor);
        this.balances.set(code, (this.balances.get(code) ?? 0n) + posting.amount.minor);
      }
      for (const [currency, total] of net) {
        if (total !== 0n)
          throw new Error(`transaction ${transaction.kind} is off by ${total} in ${currency}`);
      }
      this.transactions.push(transaction);
      this.index(transaction);
    }
    for (const milestone of decision.milestones) {
      const before = this.milestones.get(milestone.milestoneId);
      if (before && milestone.version !== before.version + 1) {
        throw new Error(
          `milestone ${milestone.milestoneId} version ${before.version} → ${milestone.version}`,
        );
      }
      this.milestones.set(milestone.milestoneId, milestone);
    }
    for (const chargeback of decision.chargebacks ?? [])
      this.bookedChargebacks.set(chargeback.paymentKey, chargeback);
    if (command.type === 'PAYMENT_CONFIRMED') {
      const key = `${command.gateway}:${command.gatewayReference}`;
      const minor = readableMinor(command);
      this.payments.set(key, { payment: command, status: decision.status, minor });
    }
    this.onBooked?.({ command, decision, milestonesBefore, requested });
  }

  private index(transaction: TransactionDraft): void {
    const { release, milestoneId, memo } = transaction;
    if (release && milestoneId !== null) {
      const sums = this.releasedByMilestone.get(milestoneId) ?? { gross: 0n, fees: 0n };
      sums.gross += release.gross.minor;
      sums.fees += release.fee.minor;
      this.releasedByMilestone.set(milestoneId, sums);
    }
    if (!receiptKinds.has(transaction.kind) || memo.gateway === undefined) return;
    const key = `${String(memo.gateway)}:${String(memo.gatewayReference)}`;
    const receipt = this.receipts.get(key) ?? { received: 0n, lines: 0 };
    receipt.lines += 1;
    for (const posting of transaction.postings)
      if (posting.account.kind === 'GATEWAY_CLEARING') receipt.received -= posting.amount.minor;
    this.receipts.set(key, receipt);
  }

  /** What FINAL payments applied to a milestone brought, in minor units. */
  private finalPaymentsMinor(orderId: string, milestoneId: string): bigint {
    let total = 0n;
    for (const { payment, status, minor } of this.payments.values()) {
      if (status !== 'APPLIED' || payment.kind !== 'FINAL' || payment.orderId !== orderId) continue;
      if (payment.milestoneId !== milestoneId) continue;
      total += minor;
    }
    return total;
  }

  balance(code: string): bigint {
    return this.balances.get(code) ?? 0n;
  }

  /** Per currency, what standing chargebacks took from revenue beyond any fee (fromPlatform). */
  private platformLossesMinor(): Map<string, bigint> {
    const losses = new Map<string, bigint>();
    for (const chargeback of this.bookedChargebacks.values()) {
      if (chargeback.reversed) continue;
      const { currency } = chargeback.amount;
      losses.set(currency, (losses.get(currency) ?? 0n) + chargeback.fromPlatform.minor);
    }
    return losses;
  }

  /** Invariants 1–4 of DESIGN.md; returns the broken ones, each in words. */
  brokenInvariants(): string[] {
    const broken: string[] = [];
    const totals = new Map<string, bigint>();
    const platformLosses = this.platformLossesMinor();
    for (const [code, balance] of this.balances) {
      const currency = code.split(':')[1]!;
      totals.set(currency, (totals.get(currency) ?? 0n) + balance);
      // A provider receivable is owed to the platform: at or below zero, never above.
      if (code.startsWith('PROVIDER_RECEIVABLE')) {
        if (balance > 0n) broken.push(`${code} is above zero (over-recovered): ${balance}`);
      } else if (code.startsWith('PLATFORM_REVENUE')) {
        // Revenue goes below zero only by what chargebacks took as the platform's loss.
        const losses = platformLosses.get(currency) ?? 0n;
        if (balance + losses < 0n)
          broken.push(`${code} is ${balance}, below the platform's chargeback losses ${losses}`);
      } else if (!code.startsWith('GATEWAY_CLEARING') && balance < 0n)
        broken.push(`${code} is negative: ${balance}`);
    }
    for (const [currency, total] of totals) {
      if (total !== 0n) broken.push(`the ledger does not net to zero in ${currency}: ${total}`);
    }
    for (const m of this.milestones.values()) {
      const parts = add(add(add(m.held, m.disputed), m.released), m.refunded);
      if (parts.minor !== m.funded.minor) {
        broken.push(
          `${m.milestoneId}: funded ${formatAmount(m.funded)} ≠ held+disputed+released+refunded ${formatAmount(parts)}`,
        );
      }
      const hold = this.balance(`ESCROW_HOLD:${m.currency}:${m.orderId}:${m.milestoneId}`);
      const disputed = this.balance(`DISPUTED_FUNDS:${m.currency}:${m.orderId}:${m.milestoneId}`);
      if (hold !== m.held.minor)
        broken.push(`${m.milestoneId}: hold account ${hold} ≠ held ${m.held.minor}`);
      if (disputed !== m.disputed.minor) {
        broken.push(
          `${m.milestoneId}: disputed account ${disputed} ≠ disputed ${m.disputed.minor}`,
        );
      }
      const { gross, fees } = this.releasedByMilestone.get(m.milestoneId) ?? {
        gross: 0n,
        fees: 0n,
      };
      if (gross !== m.released.minor || fees !== m.fees.minor) {
        broken.push(
          `${m.milestoneId}: released ${m.released.minor}/fees ${m.fees.minor} ≠ ledger ${gross}/${fees}`,
        );
      }
      if (m.fees.minor > m.released.minor) broken.push(`${m.milestoneId}: fees exceed released`);
      // The database's CHECKs, and the rule that a milestone never holds more than it
      // is worth, except before its reach by the FINAL top-ups that wait for its final amount.
      if (m.amount.minor < 0n)
        broken.push(`${m.milestoneId}: amount ${m.amount.minor} is negative`);
      const waitingTopUps = m.reached ? 0n : this.finalPaymentsMinor(m.orderId, m.milestoneId);
      if (m.disputeId === null && m.held.minor > m.amount.minor + waitingTopUps) {
        broken.push(
          `${m.milestoneId}: holds ${m.held.minor}, more than its amount ${m.amount.minor}`,
        );
      }
      const largestAmount =
        m.finalAmount && m.finalAmount.minor > m.originalAmount.minor
          ? m.finalAmount
          : m.originalAmount;
      if (m.released.minor > largestAmount.minor) {
        broken.push(`${m.milestoneId}: released ${m.released.minor}, more than it was ever worth`);
      }
    }
    // Invariant 3: every payment delivered is in the ledger exactly once, for its full
    // amount (used, or refunded at once), unless it is kept (waiting for its order, or
    // unmatched) or its amount cannot be read in its currency: then not at all.
    for (const [key, { status, minor }] of this.payments) {
      const { received, lines } = this.receipts.get(key) ?? { received: 0n, lines: 0 };
      const expected = status === 'KEPT' ? 0n : minor;
      if (received !== expected) {
        broken.push(
          `payment ${key} (${status}): received ${received} in ${lines} transactions, expected ${expected}`,
        );
      }
    }
    return broken;
  }
}

/** The transactions that receive a payment (a chargeback or settlement names a gateway too). */
const receiptKinds: ReadonlySet<string> = new Set([
  'FUNDING',
  'OVERPAYMENT_REFUND',
  'CURRENCY_MISMATCH_REFUND',
  'SERVICE_FEE',
]);

/** A payment's amount in minor units, or 0 when it cannot be read in its currency (refused). */
function readableMinor(payment: ConfirmPayment): bigint {
  try {
    return parseAmount(payment.amount, payment.currency).minor;
  } catch (error) {
    if (error instanceof MoneyError) return 0n;
    throw error;
  }
}
