/**
 * What the three steps of a slice (slice-load.ts → slice-plan.ts →
 * slice-write.ts) hand each other: events with their inbox identity, the
 * state a slice decides on, and each event's result as it is built.
 */
import type { PaymentRow } from './payments';
import type {
  Chargeback,
  Decision,
  Disbursement,
  EscrowCommand,
  Milestone,
  Order,
  PaymentRecord,
} from '../domain/escrow';
import type { FeePolicy } from '../domain/fees';
import type { InboundEvent, Verdict } from './events';

/** How a slice treats the events kept for the orders it opens (apply-event.ts uses these). */
export interface SliceOptions {
  /** Kept events, by inbox key, whose replay fails for good: not replayed, marked with the reason. */
  readonly setAside?: ReadonlyMap<string, string>;
  /** Replays at most this many stored kept events (the search for the one that fails). */
  readonly replayLimit?: number;
  /** Rolls everything back at the end: only says whether the slice would commit. */
  readonly dryRun?: boolean;
}

export interface KeyedEvent {
  readonly event: InboundEvent;
  readonly key: string;
  readonly hash: string;
}

/** An event kept while its order was unknown, stored before the batch or kept by it. */
export interface KeptEvent extends KeyedEvent {
  readonly keptId: string | null;
  /** For one kept by this batch: its row in `keptRows`. */
  readonly row: number | null;
}

/** What one decided event still needs written once the ledger ids exist. */
export interface DecidedEvent extends KeyedEvent {
  readonly decision: Decision;
  /** Index of its first draft in the batch's ledger list. */
  readonly firstDraft: number;
  /** The top-level event whose result its outcomes count towards. */
  readonly owner: ResultSoFar;
  /** An idempotency conflict: its outcome is written, and nothing else of it. */
  readonly conflict?: true;
  /** A payment's row as the plan left it, without the ledger's ids (withTransactionIds adds them). */
  readonly payment?: PaymentRow | null;
}

export interface ResultSoFar {
  verdict: Verdict;
  reason?: string;
  outcomeIds: string[];
  ledgerTransactions: number;
}

export interface StoredKeptRow {
  kept_id: string;
  dedupe_key: string;
  topic: string;
  payload_hash: string;
  command: {
    command: EscrowCommand;
    occurredAt: string;
    partition: number | null;
    offset: string | null;
    /** Its trace context, so that the outcomes of its replay carry it (absent when it had none). */
    traceparent?: string;
    tracestate?: string;
  };
}

/** A new inbox row; its verdict is the one the slice ends with (a kept event replayed in it updates it). */
export interface InboxRow {
  readonly dedupe_key: string;
  readonly event_id: string;
  /** The order the event names, so an order's inbound events can be listed (its timeline). */
  readonly order_id: string;
  readonly topic: string;
  readonly kafka_partition: number | null;
  readonly kafka_offset: string | null;
  readonly payload_hash: string;
  outcome: Verdict;
  reason: string | null;
}

/** A kept event's new row; `replayed_at` is set when its order opens in the same slice. */
export interface KeptRow {
  readonly order_id: string;
  readonly dedupe_key: string;
  readonly topic: string;
  readonly command: StoredKeptRow['command'];
  replayed_at: Date | null;
  /** What it waits for besides its order (a payment's inbox key); null: its order. */
  awaiting: string | null;
}

/** The replay verdict of an event kept before the slice; null until it is replayed. */
export type StoredKeptVerdict = { outcome: Verdict; reason: string | null } | null;

/**
 * What a slice decides on, read once (slice-load.ts); the plan then moves it
 * on event by event, so each event sees what the ones before it did.
 */
export interface SliceState {
  readonly now: Date;
  readonly feePolicy: FeePolicy;
  /** The stored substance hash of each of the slice's keys and conflict markers already in the inbox. */
  readonly storedHashes: Map<string, string>;
  readonly orders: Map<string, Order | null>;
  readonly milestones: Map<string, Milestone[]>;
  /** Released gross per "<providerId>/<currency>" over the policy's window. */
  readonly volume: Map<string, bigint>;
  /** Per order, per milestone: the gateway references of the payments that funded it. */
  readonly fundedBy: Map<string, Record<string, string[]>>;
  /** Per order: the events kept for it, to replay when it opens. */
  readonly kept: Map<string, KeptEvent[]>;
  /** Keys of events kept before the slice, with their replay's verdict. */
  readonly storedKept: Map<string, StoredKeptVerdict>;
  /** Stored kept events set aside (SliceOptions.setAside), with the reason. */
  readonly failedKept: { kept_id: string; reason: string }[];
  /** Payouts and refunds the slice's settlements name, by outcomeId. */
  readonly disbursements: Map<string, Disbursement>;
  /** Payments chargebacks may name, by paymentKey: read, and applied by the slice. */
  readonly payments: Map<string, PaymentRecord>;
  /** Chargebacks of the slice's orders and outstanding receivables, by paymentKey, oldest first. */
  readonly chargebacks: Map<string, Chargeback>;
  /**
   * The same chargebacks as the load read them, left as they are while the
   * plan moves `chargebacks` on: a changed one is written back only while its
   * row still holds these values (updateChargebacksSql).
   */
  readonly chargebacksRead: Map<string, Chargeback>;
  /** Per payment key: events kept until that payment is applied (a chargeback before its payment). */
  readonly keptAwaiting: Map<string, KeptEvent[]>;
}

/** A state with nothing read yet: what a slice starts from before its load fills it. */
export function emptySliceState(now: Date, feePolicy: FeePolicy): SliceState {
  return {
    now,
    feePolicy,
    storedHashes: new Map(),
    orders: new Map(),
    milestones: new Map(),
    volume: new Map(),
    fundedBy: new Map(),
    kept: new Map(),
    storedKept: new Map(),
    failedKept: [],
    disbursements: new Map(),
    payments: new Map(),
    chargebacks: new Map(),
    chargebacksRead: new Map(),
    keptAwaiting: new Map(),
  };
}

export function keptFor(kept: Map<string, KeptEvent[]>, orderId: string): KeptEvent[] {
  let list = kept.get(orderId);
  if (!list) kept.set(orderId, (list = []));
  return list;
}

export function addFunding(
  fundedBy: Map<string, Record<string, string[]>>,
  orderId: string,
  milestoneId: string,
  reference: string,
): void {
  const references = fundedBy.get(orderId) ?? {};
  (references[milestoneId] ??= []).push(reference);
  fundedBy.set(orderId, references);
}
