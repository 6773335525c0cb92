/**
 * What the settlement model records, in minor units: the requests, payments
 * and chargebacks it knows, its running figures per currency, and the reading
 * of the amounts outcomes publish.
 */
import { MoneyError, parseAmount } from '../../src/domain/money';

/** Money that moved, by what moved it; what the account checks are worked out from. */
export interface Totals {
  /** Payments that reached the ledger (applied, or refunded at once). */
  received: bigint;
  paidOut: bigint;
  refundsPaid: bigint;
  chargedBack: bigint;
  chargebacksReversed: bigint;
  /** Release and dispute fees credited to revenue. */
  fees: bigint;
  serviceFees: bigint;
  /** The provider parts of chargebacks, what releases netted of them, and what reversals cancelled. */
  receivablesCreated: bigint;
  recoveredByReleases: bigint;
  receivablesCancelled: bigint;
}

export function totalsFor(all: Map<string, Totals>, currency: string): Totals {
  let totals = all.get(currency);
  if (totals === undefined) {
    totals = {
      received: 0n,
      paidOut: 0n,
      refundsPaid: 0n,
      chargedBack: 0n,
      chargebacksReversed: 0n,
      fees: 0n,
      serviceFees: 0n,
      receivablesCreated: 0n,
      recoveredByReleases: 0n,
      receivablesCancelled: 0n,
    };
    all.set(currency, totals);
  }
  return totals;
}

/** An amount an outcome published, zero allowed. */
export const minorOf = (text: string, currency: string): bigint =>
  parseAmount(text, currency, { allowZero: true }).minor;

/** An event's amount in minor units, or null when it cannot be read in its currency. */
export function readMinor(text: string, currency: string): bigint | null {
  try {
    return parseAmount(text, currency).minor;
  } catch (error) {
    if (error instanceof MoneyError) return null;
    throw error;
  }
}

export interface ModelRequest {
  readonly outcomeId: string;
  readonly kind: 'PAYOUT' | 'REFUND';
  readonly orderId: string;
  readonly currency: string;
  readonly amount: bigint;
  /** The first request for this money; a retry keeps its root. */
  readonly root: string;
  readonly retryOf: string | null;
  state: 'REQUESTED' | 'PAID' | 'FAILED' | 'RETRIED';
}

export interface ModelPayment {
  readonly orderId: string;
  readonly milestoneId: string | null;
  readonly currency: string;
  readonly amount: bigint;
  /** What reached its milestone (the rest was refunded at once or is a service fee's). */
  readonly applied: bigint;
}

export interface ModelChargeback {
  readonly orderId: string;
  readonly providerId: string;
  readonly milestoneId: string | null;
  readonly currency: string;
  readonly amount: bigint;
  readonly fromHeld: bigint;
  readonly fromDisputed: bigint;
  readonly feeReversed: bigint;
  readonly receivable: bigint;
  readonly fromPlatform: bigint;
  recovered: bigint;
  reversed: boolean;
}

/** What the model knows, as the rules that read it see it. */
export interface SettlementRecords {
  readonly requests: ReadonlyMap<string, ModelRequest>;
  readonly payments: ReadonlyMap<string, ModelPayment>;
  /** By payment, in the order they were applied: oldest first, as releases recover them. */
  readonly chargebacks: ReadonlyMap<string, ModelChargeback>;
  readonly orders: ReadonlyMap<string, { state: 'OPEN' | 'CANCELLED'; providerId: string }>;
}

/** A payment's identity as the model keys it (not the domain's paymentKey). */
export const paymentId = (gateway: string, reference: string) => `${gateway}\u0000${reference}`;

export const min = (a: bigint, b: bigint) => (a < b ? a : b);
