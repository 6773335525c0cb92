/**
 * What the gateways and the payout service send back, as random intents for
 * the domain's property test, and the settlements they become once the
 * sequence has produced something to name: payouts and refunds paid or
 * failed (sometimes for the wrong amount, currency or kind, sometimes a
 * second time), retried by an operator, payments charged back (in part, in
 * full, or for more than they were) and reversed (sometimes for the wrong
 * amount, sometimes with nothing to reverse).
 */
import fc from 'fast-check';
import type { ConfirmPayment, Settle } from '../../src/domain/escrow';
import { formatAmount, money } from '../../src/domain/money';
import { paymentId, readMinor } from './settlement-figures';
import type { SettlementModel } from './settlement-model';

export type SettlementIntent =
  | {
      kind: 'settle';
      pick: number;
      /**
       * Open: a request still REQUESTED; closed: one paid, failed or retried
       * already; unknown: an outcome id no request has (kept, nothing moves).
       */
      target: 'open' | 'closed' | 'unknown';
      /** Which kind of request, when the sequence made one of that kind. */
      of: 'PAYOUT' | 'REFUND' | 'any';
      paid: boolean;
      amount: 'exact' | 'less' | 'more' | 'otherCurrency';
      /** A payout settlement naming a refund, or the reverse. */
      crossKind: boolean;
      /** Sent with another order's id (or one not opened: kept for it). */
      crossOrder: boolean;
    }
  | { kind: 'retry'; pick: number }
  | { kind: 'chargeback'; pick: number; percent: number; received: boolean }
  | { kind: 'chargebackFirst'; order: number; milestone: number; percent: number }
  | {
      kind: 'reverse';
      pick: number;
      /** Any payment, charged back or not; else a chargeback delivered, a standing one if any. */
      ofPayment: boolean;
      /** Among standing chargebacks, one whose receivable releases netted, if any. */
      recoveredFirst: boolean;
      wrongAmount: boolean;
    };

const oneIn = (n: number) => fc.integer({ min: 1, max: n }).map((drawn) => drawn === 1);

/** Up to 110 %: a chargeback for more than its payment must be refused. */
const percent = fc.oneof(
  { weight: 3, arbitrary: fc.constant(100) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 100 }) },
  { weight: 1, arbitrary: fc.integer({ min: 101, max: 110 }) },
);

export const settlementIntent = (
  orderIndex: fc.Arbitrary<number>,
  milestoneIndex: fc.Arbitrary<number>,
): fc.Arbitrary<SettlementIntent> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        pick: fc.nat(),
        target: fc.oneof(
          { weight: 15, arbitrary: fc.constant('open' as const) },
          { weight: 5, arbitrary: fc.constant('closed' as const) },
          { weight: 1, arbitrary: fc.constant('unknown' as const) },
        ),
        of: fc.constantFrom(
          'PAYOUT' as const,
          'PAYOUT' as const,
          'REFUND' as const,
          'any' as const,
        ),
        paid: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
        amount: fc.oneof(
          { weight: 12, arbitrary: fc.constant('exact' as const) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('less' as const, 'more' as const, 'otherCurrency' as const),
          },
        ),
        crossKind: oneIn(15),
        crossOrder: oneIn(20),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('chargeback' as const),
        pick: fc.nat(),
        percent,
        // Mostly a payment the ledger holds; else any delivered, kept ones too.
        received: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('chargebackFirst' as const),
        order: orderIndex,
        milestone: milestoneIndex,
        percent,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('reverse' as const),
        pick: fc.nat(),
        ofPayment: oneIn(6),
        recoveredFirst: oneIn(2),
        wrongAmount: oneIn(10),
      }),
    },
  );

/** Builds the settlements intents ask for, naming what the sequence produced so far. */
export class SettlementCommands {
  private readonly chargebacks: Settle[] = [];
  private transfers = 0;

  constructor(
    private readonly model: SettlementModel,
    private readonly eventId: () => string,
  ) {}

  /** PAYOUT_* or REFUND_* for a request the sequence made; undefined while there is none. */
  settle(intent: SettlementIntent & { kind: 'settle' }): Settle | undefined {
    const open = intent.target !== 'closed';
    const candidates = [...this.model.requests.values()].filter(
      (request) => (request.state === 'REQUESTED') === open,
    );
    const ofKind = candidates.filter((request) => request.kind === intent.of);
    const requests = ofKind.length > 0 ? ofKind : candidates;
    if (requests.length === 0) return undefined;
    const picked = requests[intent.pick % requests.length]!;
    const request =
      intent.target === 'unknown'
        ? { ...picked, outcomeId: `no-such-outcome-${this.transfers}` }
        : picked;
    const payout = (request.kind === 'PAYOUT') !== intent.crossKind;
    const outcome = intent.paid ? 'PAID' : 'FAILED';
    const other = request.currency === 'EUR' ? 'USD' : 'EUR';
    const minor = {
      exact: request.amount,
      less: request.amount > 1n ? request.amount - 1n : request.amount + 2n,
      more: request.amount + 1n,
      otherCurrency: request.amount,
    }[intent.amount];
    const currency = intent.amount === 'otherCurrency' ? other : request.currency;
    const otherOrder =
      [...this.model.orders.keys()].find((orderId) => orderId !== request.orderId) ??
      'order-not-opened';
    return {
      type: payout ? `PAYOUT_${outcome}` : `REFUND_${outcome}`,
      eventId: this.eventId(),
      orderId: intent.crossOrder ? otherOrder : request.orderId,
      milestoneId: null,
      outcomeId: request.outcomeId,
      gateway: 'gw-transfers',
      gatewayReference: `tr-${++this.transfers}`,
      amount: formatAmount(money(currency, minor)),
      currency,
      reason: intent.paid ? null : 'ACCOUNT_CLOSED',
    };
  }

  /** The failed request an operator retries; undefined while none failed. */
  retryTarget(intent: SettlementIntent & { kind: 'retry' }): string | undefined {
    const failed = [...this.model.requests.values()].filter((r) => r.state === 'FAILED');
    return failed.length === 0 ? undefined : failed[intent.pick % failed.length]!.outcomeId;
  }

  /** A chargeback of `percent` of a payment the ledger holds, or of any delivered. */
  chargeback(
    intent: SettlementIntent & { kind: 'chargeback' },
    delivered: readonly ConfirmPayment[],
  ): Settle | undefined {
    const received = delivered.filter((payment) =>
      this.model.payments.has(paymentId(payment.gateway, payment.gatewayReference)),
    );
    const payments = intent.received && received.length > 0 ? received : delivered;
    if (payments.length === 0) return undefined;
    return this.chargebackOf(payments[intent.pick % payments.length]!, intent.percent);
  }

  chargebackOf(payment: ConfirmPayment, percent: number): Settle {
    const paid = readMinor(payment.amount, payment.currency)!;
    const part = (paid * BigInt(percent)) / 100n;
    const chargeback = this.naming(payment, 'CHARGEBACK', part > 0n ? part : 1n);
    this.chargebacks.push(chargeback);
    return chargeback;
  }

  /** The reversal of a chargeback delivered, or of any payment (often with nothing to reverse). */
  reverse(
    intent: SettlementIntent & { kind: 'reverse' },
    payments: readonly ConfirmPayment[],
  ): Settle | undefined {
    const wrong = intent.wrongAmount ? 1n : 0n;
    if (intent.ofPayment || this.chargebacks.length === 0) {
      if (payments.length === 0) return undefined;
      const payment = payments[intent.pick % payments.length]!;
      return this.naming(
        payment,
        'CHARGEBACK_REVERSED',
        readMinor(payment.amount, payment.currency)! + wrong,
      );
    }
    const standing = this.chargebacks.filter((command) => {
      const applied = this.model.chargebacks.get(
        paymentId(command.gateway, command.gatewayReference),
      );
      return (
        applied?.reversed === false &&
        readMinor(command.amount, command.currency) === applied.amount
      );
    });
    const recovered = standing.filter(
      (command) =>
        this.model.chargebacks.get(paymentId(command.gateway, command.gatewayReference))!
          .recovered > 0n,
    );
    const candidates =
      intent.recoveredFirst && recovered.length > 0
        ? recovered
        : standing.length > 0
          ? standing
          : this.chargebacks;
    const chargeback = candidates[intent.pick % candidates.length]!;
    return {
      ...chargeback,
      type: 'CHARGEBACK_REVERSED',
      eventId: this.eventId(),
      amount: formatAmount(
        money(chargeback.currency, readMinor(chargeback.amount, chargeback.currency)! + wrong),
      ),
      reason: null,
    };
  }

  private naming(payment: ConfirmPayment, type: Settle['type'], minor: bigint): Settle {
    return {
      type,
      eventId: this.eventId(),
      orderId: payment.orderId,
      milestoneId: payment.milestoneId,
      outcomeId: null,
      gateway: payment.gateway,
      gatewayReference: payment.gatewayReference,
      amount: formatAmount(money(payment.currency, minor)),
      currency: payment.currency,
      reason: type === 'CHARGEBACK' ? 'FRAUDULENT' : null,
    };
  }
}
