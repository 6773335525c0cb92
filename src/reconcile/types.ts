/**
 * The reconciliation report's vocabulary, and the options with their defaults.
 * Everything in a report is JSON-ready: amounts are major-unit strings with
 * their currency ("1000.00 USD"), ids are strings, counts are numbers.
 */
import type { Knex } from 'knex';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export interface ReconcileProgress {
  /** The check being run (its `name`). */
  check: string;
  /** Work done so far: rows of its table for a chunked scan, 0 or 1 for a single query. */
  done: number;
  /** The work there is, when known. */
  total?: number;
}

export interface ReconcileOptions {
  /** The moment the report is "as of": ages and thresholds are measured from it. */
  now: Date;
  /** A payment still PENDING_ORDER (kept, unmatched), or an event still kept, this long: a finding. */
  unmatchedPaymentAfterMs: number;
  /** An outbox row not published this long after it was written: a finding. */
  outboxUnpublishedAfterMs: number;
  /** A milestone holding funds (in escrow hold or disputed) this long since first funded: stuck funds. */
  stuckFundsAfterMs: number;
  /** A payout or refund requested and neither paid nor failed this long: a finding. */
  unsettledRequestAfterMs: number;
  /** A payout or refund failed and not asked for again this long: a finding. */
  failedNotRetriedAfterMs: number;
  /** A provider receivable (a chargeback after release) still owed this long: a finding. */
  receivableOutstandingAfterMs: number;
  /**
   * How far back settlements refused INVALID_STATE or SETTLEMENT_MISMATCH are listed
   * (each is money the gateway says moved and the ledger did not record).
   */
  refusedSettlementWindowMs: number;
  /**
   * How far back ledger transactions are checked for their outcome in the outbox.
   * The relay deletes published rows after 7 days, so older outcomes cannot be checked.
   */
  outcomeWindowMs: number;
  /** Discrepancies listed per check; the count always covers all of them. */
  maxExamplesPerCheck: number;
  /** Rows per chunk of a scan: one SQL statement per chunk, and one progress call. */
  chunkSize: number;
  onProgress?: (progress: ReconcileProgress) => void;
}

export const defaultReconcileOptions = {
  unmatchedPaymentAfterMs: hour,
  outboxUnpublishedAfterMs: 5 * minute,
  stuckFundsAfterMs: 30 * day,
  outcomeWindowMs: 6 * day,
  unsettledRequestAfterMs: 3 * day,
  failedNotRetriedAfterMs: day,
  receivableOutstandingAfterMs: 30 * day,
  refusedSettlementWindowMs: 7 * day,
  maxExamplesPerCheck: 20,
  chunkSize: 5000,
} as const satisfies Partial<ReconcileOptions>;

export interface Discrepancy {
  /** What it is about, readable: "milestone o-1/m-1", "payment stripe/ch_1", "transaction 42". */
  subject: string;
  /** What is wrong, in numbers. */
  problem: string;
  /** What to do, when this case needs more than the check's general action. */
  action?: string;
  /**
   * Ids for machines: transactionId, orderId, milestoneId, gateway, gatewayReference,
   * accountCode, outboxId, keptId, outcomeId, providerId, partyId, currency.
   */
  refs: Record<string, string>;
}

export interface AgeBucket {
  /** e.g. "7d–30d", "≥ 180d". */
  label: string;
  fromMs: number;
  /** Null for the last, open-ended bucket. */
  toMs: number | null;
  milestones: number;
  /** What those milestones hold (escrow hold + disputed), per currency: ["1500.00 USD"]. */
  amounts: string[];
}

/** Receivables still owed, by how long ago the chargeback that made each was applied. */
export interface ReceivableAgeBucket {
  label: string;
  fromMs: number;
  toMs: number | null;
  /** Chargebacks with part of their receivable still to recover. */
  chargebacks: number;
  /** What is still owed on them, per currency. */
  amounts: string[];
}

export interface CheckResult {
  /** Stable id, snake_case. */
  name: string;
  /** The DESIGN.md invariant or CONTRACT.md rule it checks. */
  invariant: string;
  description: string;
  status: 'ok' | 'discrepancy';
  /** Every discrepancy found; `examples` lists at most maxExamplesPerCheck of them. */
  count: number;
  examples: Discrepancy[];
  /** What an operator does about a discrepancy of this check. */
  action: string;
  /** stuck_funds only: every milestone holding funds, by how long it has held them. */
  ageBuckets?: AgeBucket[];
  /** receivables_outstanding only: every receivable still owed, by its age. */
  receivableAgeBuckets?: ReceivableAgeBucket[];
}

export interface ReconciliationTotals {
  orders: number;
  milestones: number;
  payments: number;
  accounts: number;
  transactions: number;
  entries: number;
  outboxUnpublished: number;
  keptEventsWaiting: number;
  /** Payouts and refunds requested (every retry is a request of its own). */
  disbursements: number;
  chargebacks: number;
  /** Events received (inbox rows), whatever became of them. */
  events: number;
}

export interface ReconciliationReport {
  /** The `now` the report is as of (ISO-8601, UTC). */
  generatedAt: string;
  /** True when every check is ok. */
  clean: boolean;
  thresholds: {
    unmatchedPaymentAfterMs: number;
    outboxUnpublishedAfterMs: number;
    stuckFundsAfterMs: number;
    outcomeWindowMs: number;
    unsettledRequestAfterMs: number;
    failedNotRetriedAfterMs: number;
    receivableOutstandingAfterMs: number;
    refusedSettlementWindowMs: number;
  };
  totals: ReconciliationTotals;
  checks: CheckResult[];
  elapsedMs: number;
}

/** What a check is handed: the snapshot to read, the settings, and where to report. */
export interface CheckRun {
  /** A read-only, repeatable-read transaction: every check sees the same snapshot. */
  readonly db: Knex;
  readonly options: ReconcileOptions;
  readonly totals: ReconciliationTotals;
  /** Counts a discrepancy and keeps it as an example while there is room. */
  found(discrepancy: Discrepancy): void;
  /** Counts discrepancies that a query counted but did not list. */
  foundUnlisted(count: number): void;
  progress(done: number, total?: number): void;
  setAgeBuckets(buckets: AgeBucket[]): void;
  setReceivableAgeBuckets(buckets: ReceivableAgeBucket[]): void;
}

export interface Check {
  readonly name: string;
  readonly invariant: string;
  readonly description: string;
  readonly action: string;
  run(run: CheckRun): Promise<void>;
}
