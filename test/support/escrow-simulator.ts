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

export class EscrowSimulator {
  readonly milestones = new Map<string, Milestone>();
  readonly balances = new Map<string, bigint>();
  readonly transactions: TransactionDraft[] = [];
  readonly decisions: Decision[] = [];
  /** The command each decision answers (a replayed kept event's own), in the same order. */
  readonly decided: EscrowCommand[] = [];
  /** Every payment delivered (not a repeat), with the status of its latest decision. */
  private readonly payments = new Map<string, { payment: ConfirmPayment; status: string }>();
  /** What the pipeline's plan decides on, kept from one delivery to the next. */
  private readonly state: SliceState;
  private keptIds = 0;
  now: Date;

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
  readonly requested: { outcomeId: string; outcome: OutcomeDraft }[] = [];

  private recordRequests(decision: Decision): void {
    for (const outcome of decision.outcomes) {
      if (outcome.type !== 'PAYOUT_REQUESTED' && outcome.type !== 'REFUND_REQUESTED') continue;
      const outcomeId = `outcome-${this.requested.length + 1}`;
      this.requested.push({ outcomeId, outcome });
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
    this.recordRequests(decision);
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
    if (command.type === 'PAYMENT_CONFIRMED') {
      const key = `${command.gateway}:${command.gatewayReference}`;
      this.payments.set(key, { payment: command, status: decision.status });
    }
  }

  /** What FINAL payments applied to a milestone brought, in minor units. */
  private finalPaymentsMinor(orderId: string, milestoneId: string): bigint {
    let total = 0n;
    for (const { payment, status } of this.payments.values()) {
      if (status !== 'APPLIED' || payment.kind !== 'FINAL' || payment.orderId !== orderId) continue;
      if (payment.milestoneId !== milestoneId) continue;
      total += parseAmount(payment.amount, payment.currency).minor;
    }
    return total;
  }

  balance(code: string): bigint {
    return this.balances.get(code) ?? 0n;
  }

  /** Invariants 1–4 of DESIGN.md; returns the broken ones, each in words. */
  brokenInvariants(): string[] {
    const broken: string[] = [];
    const totals = new Map<string, bigint>();
    for (const [code, balance] of this.balances) {
      const currency = code.split(':')[1]!;
      totals.set(currency, (totals.get(currency) ?? 0n) + balance);
      // A provider receivable is owed to the platform: at or below zero, never above.
      if (code.startsWith('PROVIDER_RECEIVABLE')) {
        if (balance > 0n) broken.push(`${code} is above zero (over-recovered): ${balance}`);
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
      const released = this.transactions.filter(
        (t) => t.milestoneId === m.milestoneId && t.release !== undefined,
      );
      const gross = released.reduce((sum, t) => sum + t.release!.gross.minor, 0n);
      const fees = released.reduce((sum, t) => sum + t.release!.fee.minor, 0n);
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
    for (const [key, { payment, status }] of this.payments) {
      const lines = this.transactions.filter(
        (t) =>
          receiptKinds.has(t.kind) &&
          t.memo.gateway !== undefined &&
          `${String(t.memo.gateway)}:${String(t.memo.gatewayReference)}` === key,
      );
      const received = lines
        .flatMap((t) => t.postings)
        .filter((p) => p.account.kind === 'GATEWAY_CLEARING')
        .reduce((sum, p) => sum - p.amount.minor, 0n);
      const expected = status === 'KEPT' ? 0n : readableMinor(payment);
      if (received !== expected) {
        broken.push(
          `payment ${key} (${status}): received ${received} in ${lines.length} transactions, expected ${expected}`,
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
