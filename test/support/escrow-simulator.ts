/**
 * An in-memory stand-in for the storage side of the path of one message, used
 * by the domain's property tests only (the real storage is tested against
 * Postgres): an inbox (payments keyed on gateway reference, the rest on
 * eventId), kept commands replayed when their order opens, ledger balances per
 * account, and the invariants of DESIGN.md checked after every step.
 */
import { defaultFeePolicy, type FeePolicy } from '../../src/domain/fees';
import {
  accountCode,
  type ConfirmPayment,
  type Decision,
  decide,
  dedupeKey,
  type EscrowCommand,
  inboxVerdict,
  type Milestone,
  type Order,
  substanceOf,
  type TransactionDraft,
} from '../../src/domain/escrow';
import { add, formatAmount, parseAmount, zero } from '../../src/domain/money';

export class EscrowSimulator {
  order: Order | null = null;
  readonly milestones = new Map<string, Milestone>();
  readonly balances = new Map<string, bigint>();
  readonly transactions: TransactionDraft[] = [];
  readonly decisions: Decision[] = [];
  private readonly inbox = new Map<string, string>();
  private readonly keptCommands: EscrowCommand[] = [];
  private readonly appliedPayments = new Map<string, ConfirmPayment>();
  private readonly fundingReferences: Record<string, string[]> = {};
  now: Date;

  constructor(
    start: Date,
    readonly feePolicy: FeePolicy = defaultFeePolicy('0.10'),
  ) {
    this.now = start;
  }

  /** Delivers a command as a consumer would; returns the decision, or 'DUPLICATE'. */
  deliver(command: EscrowCommand): Decision | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT' {
    const key = dedupeKey(command);
    const substance = substanceOf(command);
    const verdict = inboxVerdict(this.inbox.get(key), substance);
    if (verdict !== 'NEW') return verdict;
    this.inbox.set(key, substance);
    return this.run(command);
  }

  private run(command: EscrowCommand): Decision {
    const decision = decide(command, {
      now: this.now,
      order: this.order,
      milestones: [...this.milestones.values()],
      feePolicy: this.feePolicy,
      providerVolume: zero(this.order?.currency ?? 'USD'),
      fundingReferences: this.fundingReferences,
    });
    this.apply(command, decision);
    if (decision.status === 'KEPT' && this.order === null) this.keptCommands.push(command);
    if (command.type === 'ORDER_OPENED' && decision.status === 'APPLIED') {
      // Kept events are applied in arrival order once their order exists.
      for (const kept of this.keptCommands.splice(0)) this.run(kept);
    }
    return decision;
  }

  private apply(command: EscrowCommand, decision: Decision): void {
    this.decisions.push(decision);
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
    if (decision.order) this.order = decision.order;
    for (const milestone of decision.milestones) {
      const before = this.milestones.get(milestone.milestoneId);
      if (before && milestone.version !== before.version + 1) {
        throw new Error(
          `milestone ${milestone.milestoneId} version ${before.version} → ${milestone.version}`,
        );
      }
      this.milestones.set(milestone.milestoneId, milestone);
    }
    if (command.type === 'PAYMENT_CONFIRMED' && decision.transactions.length > 0) {
      this.appliedPayments.set(`${command.gateway}:${command.gatewayReference}`, command);
      if (command.milestoneId !== null) {
        (this.fundingReferences[command.milestoneId] ??= []).push(command.gatewayReference);
      }
    }
  }

  /** What FINAL payments applied to a milestone brought, in minor units. */
  private finalPaymentsMinor(orderId: string, milestoneId: string): bigint {
    let total = 0n;
    for (const payment of this.appliedPayments.values()) {
      if (payment.kind !== 'FINAL' || payment.orderId !== orderId) continue;
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
      if (!code.startsWith('GATEWAY_CLEARING') && balance < 0n)
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
    // Invariant 3: each applied payment is in the ledger exactly once, for its full amount.
    for (const [key, payment] of this.appliedPayments) {
      const lines = this.transactions.filter(
        (t) =>
          t.memo.gateway !== undefined &&
          `${String(t.memo.gateway)}:${String(t.memo.gatewayReference)}` === key,
      );
      const received = lines
        .flatMap((t) => t.postings)
        .filter((p) => p.account.kind === 'GATEWAY_CLEARING')
        .reduce((sum, p) => sum - p.amount.minor, 0n);
      const expected = parseAmount(payment.amount, payment.currency).minor;
      if (received !== expected) {
        broken.push(
          `payment ${key}: received ${received} in ${lines.length} transactions, expected ${payment.amount}`,
        );
      }
    }
    return broken;
  }
}
