/**
 * The unit of work: a slice of events (one partition's, in offset order; or
 * one event alone, apply-event.ts) from the inbox to the outbox in ONE
 * database transaction, with a fixed number of statements whatever the
 * slice's size. Every event gets its own verdict, rows and outcomes, each
 * decided on the state the events before it left:
 *
 *   lock the slice's orders (advisory locks in code-point order, then the rows)
 *   → read the inbox's stored hashes for its keys (a key already there is a
 *     repeat: the same substance a duplicate, another an idempotency conflict)
 *   → read what decisions need (orders, milestones, fee policy, provider
 *     volumes, funding references, kept events), once for the slice
 *   → decide each event in turn on the state the events before it left, in
 *     memory, with the pure domain `decide`; an ORDER_OPENED replays the
 *     events kept for its order right after it
 *   → write: the ledger (postLedger: running balances, multi-row), then
 *     orders, milestones (each once, version-guarded), payments, kept events,
 *     the outbox (in event order) and the inbox verdicts in one statement
 *     (batch-write.ts).
 *
 * Anything it cannot apply — a ledger refusal, a database error — throws, the
 * whole transaction rolls back, and the caller applies the slice's events
 * again one at a time (apply-event.ts), which isolates the one at fault. So a
 * slice only ever has to be right about slices that succeed entirely.
 */
import type { Knex } from 'knex';
import {
  type Decision,
  decide,
  type EscrowCommand,
  type Milestone,
  type Order,
  type TransactionDraft,
} from '../domain/escrow';
import type { FeePolicy } from '../domain/fees';
import { money, zero } from '../domain/money';
import { compareCodePoints } from '../domain/text/code-point-order';
import { prepared } from '../db/columns';
import { postLedger } from '../ledger/post-transactions';
import type { StoredOrder } from '../store/orders';
import {
  lockAndLoadOrders,
  type MilestoneChange,
  noteMilestoneChange,
} from '../store/order-writes';
import type { EventResult, InboundEvent, PipelineSettings, Verdict } from './events';
import { policyInForceAt } from './fee-context';
import { conflictKey, idempotencyConflictOutcome } from './idempotency-conflict';
import { inboxKeyOf, sameSubstance } from './inbox-key';
import { writeBatch } from './batch-write';
import { type OutboxRow, outboxRows } from './outbox';
import { paymentMergeColumns, type PaymentRow, paymentRow } from './payments';

/** How a slice treats the events kept for the orders it opens (apply-event.ts uses these). */
export interface SliceOptions {
  /** Kept events, by inbox key, whose replay fails for good: not replayed, marked with the reason. */
  readonly setAside?: ReadonlyMap<string, string>;
  /** Replays at most this many stored kept events (the search for the one that fails). */
  readonly replayLimit?: number;
  /** Rolls everything back at the end: only says whether the slice would commit. */
  readonly dryRun?: boolean;
}

class DryRunDone extends Error {
  constructor(readonly results: EventResult[]) {
    super('dry run: rolled back on purpose');
  }
}

export async function applyBatch(
  db: Knex,
  settings: PipelineSettings,
  events: readonly InboundEvent[],
  options: SliceOptions = {},
): Promise<EventResult[]> {
  if (events.length === 0) return [];
  if (!options.dryRun) {
    return db.transaction((trx) => new BatchUnit(trx, settings, events, options).run());
  }
  try {
    await db.transaction(async (trx) => {
      throw new DryRunDone(await new BatchUnit(trx, settings, events, options).run());
    });
  } catch (error) {
    if (error instanceof DryRunDone) return error.results;
    throw error;
  }
  throw new Error('a dry run always rolls back');
}

interface KeyedEvent {
  readonly event: InboundEvent;
  readonly key: string;
  readonly hash: string;
}

/** An event kept while its order was unknown, stored before the batch or kept by it. */
interface KeptEvent extends KeyedEvent {
  readonly keptId: string | null;
  /** For one kept by this batch: its row in `keptRows`. */
  readonly row: number | null;
}

/** What one decided event still needs written once the ledger ids exist. */
interface DecidedEvent extends KeyedEvent {
  readonly decision: Decision;
  /** Index of its first draft in the batch's ledger list. */
  readonly firstDraft: number;
  /** The top-level event whose result its outcomes count towards. */
  readonly owner: ResultSoFar;
  /** An idempotency conflict: its outcome is written, and nothing else of it. */
  readonly conflict?: true;
}

interface ResultSoFar {
  verdict: Verdict;
  reason?: string;
  outcomeIds: string[];
  ledgerTransactions: number;
}

interface StoredKeptRow {
  kept_id: string;
  dedupe_key: string;
  topic: string;
  payload_hash: string;
  command: {
    command: EscrowCommand;
    occurredAt: string;
    partition: number | null;
    offset: string | null;
  };
}

class BatchUnit {
  private readonly now: Date;
  private readonly orders = new Map<string, Order | null>();
  private readonly milestones = new Map<string, Milestone[]>();
  private readonly milestoneChanges = new Map<string, MilestoneChange>();
  private readonly opened = new Map<string, { order: Order; eventId: string; occurredAt: Date }>();
  private readonly changedOrders = new Map<string, Order>();
  private readonly volume = new Map<string, bigint>();
  private readonly fundedBy = new Map<string, Record<string, string[]>>();
  private readonly kept = new Map<string, KeptEvent[]>();
  private readonly keptRows: Record<string, unknown>[] = [];
  private readonly replayedKeptIds: string[] = [];
  /** Stored kept events set aside: their replay failed for good (SliceOptions.setAside). */
  private readonly failedKept: { kept_id: string; reason: string }[] = [];
  private readonly drafts: {
    draft: TransactionDraft;
    cause: { eventId: string; topic: string };
  }[] = [];
  private readonly decided: DecidedEvent[] = [];
  /** The inbox row of each new key, with the verdict it ends the batch with. */
  private readonly inbox = new Map<string, Record<string, unknown>>();
  /** Keys of events kept before the batch (their inbox rows exist), with their replay's verdict. */
  private readonly storedKept = new Map<
    string,
    { outcome: Verdict; reason: string | null } | null
  >();
  private feePolicy!: FeePolicy;

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly settings: PipelineSettings,
    private readonly events: readonly InboundEvent[],
    private readonly options: SliceOptions,
  ) {
    this.now = settings.now();
  }

  async run(): Promise<EventResult[]> {
    const keyed = this.events.map((event) => ({ event, ...inboxKeyOf(event.command) }));
    const stored = await lockAndLoadOrders(
      this.trx,
      keyed.map((k) => k.event.command.orderId),
    );
    const seen = await this.storedHashes(keyed);
    await this.readContext(stored, keyed);

    const results: ResultSoFar[] = [];
    for (const item of keyed) {
      const stored = seen.get(item.key);
      if (stored !== undefined) {
        results.push(
          sameSubstance(stored, item.event.command, item.hash)
            ? { verdict: 'DUPLICATE', outcomeIds: [], ledgerTransactions: 0 }
            : this.conflict(item, seen),
        );
        continue;
      }
      seen.set(item.key, item.hash);
      const result: ResultSoFar = { verdict: 'UNCHANGED', outcomeIds: [], ledgerTransactions: 0 };
      const decision = this.decideOne(item, result);
      result.verdict = decision.status;
      if (decision.reason !== undefined) result.reason = decision.reason;
      results.push(result);
    }
    await this.write();
    return results.map(({ verdict, reason, outcomeIds, ledgerTransactions }) => ({
      verdict,
      ...(reason === undefined ? {} : { reason }),
      outcomeIds,
      ledgerTransactions,
    }));
  }

  /**
   * A key reused with another substance: answered once per substance (its
   * marker row may be stored already, or made earlier in this batch).
   */
  private conflict(item: KeyedEvent, seen: Map<string, string>): ResultSoFar {
    const marker = conflictKey(item.key, item.hash);
    if (seen.has(marker)) return { verdict: 'DUPLICATE', outcomeIds: [], ledgerTransactions: 0 };
    seen.set(marker, item.hash);
    const { command } = item.event;
    this.inbox.set(marker, {
      dedupe_key: marker,
      event_id: command.eventId,
      topic: item.event.topic,
      kafka_partition: item.event.partition,
      kafka_offset: item.event.offset,
      payload_hash: item.hash,
      outcome: 'IDEMPOTENCY_CONFLICT',
      reason: 'IDEMPOTENCY_CONFLICT',
    });
    const result: ResultSoFar = {
      verdict: 'IDEMPOTENCY_CONFLICT',
      reason: 'IDEMPOTENCY_CONFLICT',
      outcomeIds: [],
      ledgerTransactions: 0,
    };
    this.decided.push({
      event: item.event,
      key: marker,
      hash: item.hash,
      decision: {
        status: 'REJECTED',
        reason: 'IDEMPOTENCY_CONFLICT',
        milestones: [],
        transactions: [],
        outcomes: [idempotencyConflictOutcome(command, item.key)],
      },
      firstDraft: this.drafts.length,
      owner: result,
      conflict: true,
    });
    return result;
  }

  /**
   * The stored substance hash of every key of the batch already in the inbox,
   * and of every conflict marker its events would need.
   * Read under the orders' locks; a key first inserted by a concurrent
   * transaction (only possible across orders) makes this batch's own insert
   * fail on the primary key, and the batch goes one event at a time.
   */
  private async storedHashes(keyed: readonly KeyedEvent[]) {
    const { rows } = await prepared<{ rows: { dedupe_key: string; payload_hash: string }[] }>(
      this.trx,
      'batch_inbox_hashes',
      `SELECT dedupe_key, payload_hash FROM inbox WHERE dedupe_key = ANY(?::text[])`,
      [[...new Set(keyed.flatMap((k) => [k.key, conflictKey(k.key, k.hash)]))]],
    );
    return new Map(rows.map((row) => [row.dedupe_key, row.payload_hash]));
  }

  /** Everything the batch's decisions read, in one statement each. */
  private async readContext(stored: Map<string, StoredOrder>, keyed: readonly KeyedEvent[]) {
    for (const [orderId, { order, milestones }] of stored) {
      this.orders.set(orderId, order);
      this.milestones.set(orderId, milestones);
    }
    this.feePolicy = await policyInForceAt(this.trx, this.now, this.settings.defaultFeeRate);

    const known = [...stored.values()].flatMap(({ order }) => (order ? [order] : []));
    const openers = keyed.flatMap(({ event: { command } }) =>
      command.type === 'ORDER_OPENED' && !this.orders.get(command.orderId) ? [command] : [],
    );
    const providers = [
      ...new Set([...known.map((o) => o.providerId), ...openers.map((c) => c.providerId)]),
    ];
    // Volume only picks a tier: a policy without tiers never reads it.
    if (providers.length > 0 && this.feePolicy.volumeTiers.length > 0) {
      const since = new Date(
        this.now.getTime() - this.feePolicy.volumeWindowDays * 24 * 3600 * 1000,
      );
      const { rows } = await prepared<{
        rows: { provider_id: string; currency: string; total: string }[];
      }>(
        this.trx,
        'batch_volume',
        `SELECT provider_id, currency, sum(gross_minor)::text AS total FROM releases
         WHERE provider_id = ANY(?::text[]) AND released_at > ?
         GROUP BY provider_id, currency`,
        [providers, since],
      );
      for (const row of rows)
        this.volume.set(`${row.provider_id}/${row.currency}`, BigInt(row.total));
    }
    if (known.length > 0) {
      const { rows } = await prepared<{
        rows: { order_id: string; milestone_id: string; gateway_reference: string }[];
      }>(
        this.trx,
        'batch_funded',
        `SELECT order_id, milestone_id, gateway_reference FROM payments
         WHERE order_id = ANY(?::text[]) AND status = 'APPLIED' AND milestone_id IS NOT NULL
         ORDER BY payment_id`,
        [known.map((o) => o.orderId)],
      );
      for (const row of rows) this.funded(row.order_id, row.milestone_id, row.gateway_reference);
    }
    if (openers.length > 0) {
      const { rows } = await prepared<{ rows: StoredKeptRow[] }>(
        this.trx,
        'batch_kept',
        `SELECT k.kept_id, k.dedupe_key, k.topic, k.command, i.payload_hash
         FROM kept_events k JOIN inbox i USING (dedupe_key)
         WHERE k.order_id = ANY(?::text[]) AND k.replayed_at IS NULL
         ORDER BY k.kept_id`,
        [[...new Set(openers.map((c) => c.orderId))]],
      );
      let replays = 0;
      for (const row of rows) {
        const { command, occurredAt, partition, offset } = row.command;
        const failure = this.options.setAside?.get(row.dedupe_key);
        if (failure !== undefined) {
          // It stays kept, with the reason, for reconciliation; its order opens without it.
          this.failedKept.push({ kept_id: row.kept_id, reason: failure });
          this.storedKept.set(row.dedupe_key, { outcome: 'REJECTED', reason: failure });
          continue;
        }
        if (this.options.replayLimit !== undefined && replays >= this.options.replayLimit) continue;
        replays += 1;
        this.storedKept.set(row.dedupe_key, null);
        this.keptFor(command.orderId).push({
          keptId: row.kept_id,
          row: null,
          key: row.dedupe_key,
          hash: row.payload_hash,
          event: { topic: row.topic, partition, offset, occurredAt: new Date(occurredAt), command },
        });
      }
    }
  }

  private keptFor(orderId: string): KeptEvent[] {
    let list = this.kept.get(orderId);
    if (!list) this.kept.set(orderId, (list = []));
    return list;
  }

  private funded(orderId: string, milestoneId: string, reference: string): void {
    const references = this.fundedBy.get(orderId) ?? {};
    (references[milestoneId] ??= []).push(reference);
    this.fundedBy.set(orderId, references);
  }

  /** Decides one event on the batch's state so far and records what it changes (decideAndApply). */
  private decideOne(item: KeyedEvent, owner: ResultSoFar): Decision {
    const { command } = item.event;
    const order = this.orders.get(command.orderId) ?? null;
    const decision = decide(command, {
      now: this.now,
      order,
      milestones: this.milestones.get(command.orderId) ?? [],
      feePolicy: this.feePolicy,
      providerVolume: order
        ? money(order.currency, this.volume.get(`${order.providerId}/${order.currency}`) ?? 0n)
        : zero(command.type === 'PAYMENT_CONFIRMED' ? command.currency : 'USD'),
      fundingReferences: order ? (this.fundedBy.get(command.orderId) ?? {}) : {},
    });
    if (this.storedKept.has(item.key))
      this.storedKept.set(item.key, { outcome: decision.status, reason: decision.reason ?? null });
    else {
      const row = this.inbox.get(item.key);
      // A row already there (a kept event replayed) takes the new verdict in
      // place, not by re-spreading it: see outbox.ts outcomeRecord.
      if (row) {
        row.outcome = decision.status;
        row.reason = decision.reason ?? null;
      } else {
        this.inbox.set(item.key, {
          dedupe_key: item.key,
          event_id: command.eventId,
          topic: item.event.topic,
          kafka_partition: item.event.partition,
          kafka_offset: item.event.offset,
          payload_hash: item.hash,
          outcome: decision.status,
          reason: decision.reason ?? null,
        });
      }
    }
    this.changeState(command, order, decision, item.event);
    this.decided.push({
      event: item.event,
      key: item.key,
      hash: item.hash,
      decision,
      firstDraft: this.drafts.length,
      owner,
    });
    owner.ledgerTransactions += decision.transactions.length;
    for (const draft of decision.transactions) {
      this.drafts.push({ draft, cause: { eventId: command.eventId, topic: item.event.topic } });
      if (draft.release) {
        const key = `${draft.release.providerId}/${draft.release.gross.currency}`;
        this.volume.set(key, (this.volume.get(key) ?? 0n) + draft.release.gross.minor);
      }
    }
    if (command.type === 'PAYMENT_CONFIRMED') {
      const row = paymentRow(command, decision, [], item.hash, {
        confirmedAt: item.event.occurredAt,
        now: this.now,
      });
      if (row?.status === 'APPLIED' && command.milestoneId !== null)
        this.funded(command.orderId, command.milestoneId, command.gatewayReference);
    }
    if (decision.status === 'KEPT' && order === null) this.keep(item);
    if (command.type === 'ORDER_OPENED' && decision.status === 'APPLIED') {
      for (const kept of this.kept.get(command.orderId) ?? []) this.replay(kept, owner);
      this.kept.delete(command.orderId);
    }
    return decision;
  }

  private replay(kept: KeptEvent, owner: ResultSoFar): void {
    this.decideOne(kept, owner);
    if (kept.keptId !== null) this.replayedKeptIds.push(kept.keptId);
    else this.keptRows[kept.row!]!.replayed_at = this.now;
  }

  private keep(item: KeyedEvent): void {
    const { event } = item;
    this.keptFor(event.command.orderId).push({
      event,
      key: item.key,
      hash: item.hash,
      keptId: null,
      row: this.keptRows.length,
    });
    this.keptRows.push({
      order_id: event.command.orderId,
      dedupe_key: item.key,
      topic: event.topic,
      command: {
        command: event.command,
        occurredAt: event.occurredAt.toISOString(),
        partition: event.partition,
        offset: event.offset,
      },
      replayed_at: null,
    });
  }

  /** The order and milestones as the decision leaves them, as the next event will read them. */
  private changeState(
    command: EscrowCommand,
    read: Order | null,
    decision: Decision,
    event: InboundEvent,
  ): void {
    if (decision.order) {
      const { orderId } = decision.order;
      const opened = this.opened.get(orderId);
      if (read === null)
        this.opened.set(orderId, {
          order: decision.order,
          eventId: command.eventId,
          occurredAt: event.occurredAt,
        });
      else if (opened) opened.order = decision.order;
      else this.changedOrders.set(orderId, decision.order);
      this.orders.set(orderId, decision.order);
    }
    if (decision.milestones.length === 0) return;
    const current = new Map(
      (this.milestones.get(command.orderId) ?? []).map((m) => [m.milestoneId, m]),
    );
    for (const milestone of decision.milestones) {
      const read = current.get(milestone.milestoneId)?.version ?? null;
      noteMilestoneChange(this.milestoneChanges, milestone, read);
      current.set(milestone.milestoneId, milestone);
    }
    this.milestones.set(
      command.orderId,
      [...current.values()].sort((a, b) => compareCodePoints(a.milestoneId, b.milestoneId)),
    );
  }

  private async write(): Promise<void> {
    const transactionIds = await postLedger(this.trx, this.drafts);
    const payments = new Map<string, PaymentRow>();
    const outbox: OutboxRow[] = [];
    for (const decided of this.decided) {
      const { command } = decided.event;
      const ids = transactionIds.slice(
        decided.firstDraft,
        decided.firstDraft + decided.decision.transactions.length,
      );
      if (command.type === 'PAYMENT_CONFIRMED' && decided.conflict === undefined) {
        const row = paymentRow(command, decided.decision, ids, decided.hash, {
          confirmedAt: decided.event.occurredAt,
          now: this.now,
        });
        if (row) mergePayment(payments, row);
      }
      const rows = outboxRows(decided.decision.outcomes, {
        eventId: command.eventId,
        transactionIds: ids,
        now: this.now,
        topicPrefix: this.settings.topicPrefix,
      });
      outbox.push(...rows);
      decided.owner.outcomeIds.push(...rows.map((row) => row.outcome_id));
    }
    await writeBatch(this.trx, {
      // New keys only, each with its final verdict (a kept event replayed in
      // the batch has its replay's); events kept before the batch get their
      // replay's verdict on the row they have.
      inbox: [...this.inbox.values()],
      replayedVerdicts: [...this.storedKept].flatMap(([key, verdict]) =>
        verdict ? [{ key, ...verdict }] : [],
      ),
      opened: [...this.opened.values()],
      changedOrders: [...this.changedOrders.values()],
      milestones: [...this.milestoneChanges.values()],
      payments: [...payments.values()],
      keptRows: this.keptRows,
      replayedKeptIds: this.replayedKeptIds,
      failedKept: this.failedKept,
      outbox,
      now: this.now,
    });
  }
}

/**
 * One row per gateway transaction: a payment kept and replayed in the same
 * batch keeps its first row and takes the replay's merge columns, as the
 * one-event path's upsert would leave it.
 */
function mergePayment(payments: Map<string, PaymentRow>, row: PaymentRow): void {
  const key = `${row.gateway}\u0000${row.gateway_reference}`;
  const earlier = payments.get(key);
  if (!earlier) {
    payments.set(key, row);
    return;
  }
  const merged: Record<string, unknown> = { ...earlier };
  for (const column of paymentMergeColumns) merged[column] = row[column];
  payments.set(key, merged as PaymentRow);
}
