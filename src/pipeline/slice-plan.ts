/**
 * The plan step of a slice: no I/O. Events in order, each decided by the
 * pure domain on the state the events before it left, each with its own
 * result (applied, duplicate, kept, rejected with its reason, idempotency
 * conflict), as TigerBeetle answers each event of a batch. An ORDER_OPENED
 * replays the events kept for its order right after itself. Out come the
 * typed rows the write step stores: inbox rows and verdicts, orders,
 * milestones (each once, with the version it was read at), kept events,
 * ledger drafts, and each event's decision for its payments and outbox rows.
 */
import {
  type Chargeback,
  type Decision,
  decide,
  type EscrowCommand,
  type Order,
  paymentKey,
  type TransactionDraft,
} from '../domain/escrow';
import { money, zero } from '../domain/money';
import { compareCodePoints } from '../domain/text/code-point-order';
import type { SettledRow } from '../store/disbursements';
import { type MilestoneChange, noteMilestoneChange } from '../store/milestone-changes';
import type { InboundEvent } from './events';
import { conflictKey, idempotencyConflictOutcome } from './idempotency-conflict';
import { storedVerdict } from './inbox-key';
import { paymentRow } from './payments';
import {
  addFunding,
  type DecidedEvent,
  type InboxRow,
  type KeptRow,
  type KeptEvent,
  type KeyedEvent,
  keptFor,
  type ResultSoFar,
  type SliceState,
} from './slice';

export class SlicePlan {
  readonly milestoneChanges = new Map<string, MilestoneChange>();
  readonly opened = new Map<string, { order: Order; eventId: string; occurredAt: Date }>();
  readonly changedOrders = new Map<string, Order>();
  readonly keptRows: KeptRow[] = [];
  readonly replayedKeptIds: string[] = [];
  /** Stored kept events replayed and kept again, now until a payment arrives. */
  readonly rekept: { kept_id: string; awaiting: string }[] = [];
  /** Payouts and refunds settled, with the event that settled them. */
  readonly settled: SettledRow[] = [];
  /** Chargebacks as the slice leaves them, by paymentKey, with the event that changed each last. */
  readonly chargebackChanges = new Map<
    string,
    { chargeback: Chargeback; created: boolean; decided: DecidedEvent }[]
  >();
  readonly drafts: { draft: TransactionDraft; cause: { eventId: string; topic: string } }[] = [];
  readonly decided: DecidedEvent[] = [];
  /** The inbox row of each new key, with the verdict it ends the slice with. */
  readonly inbox = new Map<string, InboxRow>();
  /**
   * chargebackContext by order, until a decision changes a chargeback: an
   * order's events in a slice (a handful, flooded) read the same context, and
   * building it scans every chargeback the slice knows. The domain only reads
   * it (ReadonlyMap, readonly array), and an order's provider and currency
   * never change.
   */
  private readonly chargebackContexts = new Map<string, ReturnType<typeof chargebackContext>>();

  constructor(readonly state: SliceState) {}

  /** Plans every event of the slice, in order; returns each one's result. */
  planAll(keyed: readonly KeyedEvent[]): ResultSoFar[] {
    const seen = this.state.storedHashes;
    const results: ResultSoFar[] = [];
    for (const item of keyed) {
      const stored = seen.get(item.key);
      const verdict = storedVerdict(stored, item.event.command, item.hash);
      if (verdict === 'DUPLICATE') {
        results.push({ verdict, outcomeIds: [], ledgerTransactions: 0 });
        continue;
      }
      if (verdict === 'IDEMPOTENCY_CONFLICT') {
        results.push(this.conflict(item, seen));
        continue;
      }
      seen.set(item.key, item.hash);
      const result: ResultSoFar = { verdict: 'UNCHANGED', outcomeIds: [], ledgerTransactions: 0 };
      const decision = this.decideOne(item, result, false);
      result.verdict = decision.status;
      if (decision.reason !== undefined) result.reason = decision.reason;
      results.push(result);
    }
    return results;
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
      order_id: command.orderId,
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

  /** Decides one event on the batch's state so far and records what it changes (decideAndApply). */
  private decideOne(item: KeyedEvent, owner: ResultSoFar, replaying: boolean): Decision {
    const { command } = item.event;
    const order = this.state.orders.get(command.orderId) ?? null;
    // Chargebacks set as two fields, not spread into the literal: a spread after
    // properties copies through V8's generic path on every event.
    const orderChargebacks =
      this.state.chargebacks.size > 0 && order ? this.chargebacksOf(order) : undefined;
    const decision = decide(command, {
      now: this.state.now,
      order,
      milestones: this.state.milestones.get(command.orderId) ?? [],
      feePolicy: this.state.feePolicy,
      providerVolume: order
        ? money(
            order.currency,
            this.state.volume.get(`${order.providerId}/${order.currency}`) ?? 0n,
          )
        : zero(command.type === 'PAYMENT_CONFIRMED' ? command.currency : 'USD'),
      fundingReferences: order ? (this.state.fundedBy.get(command.orderId) ?? {}) : {},
      disbursements: this.state.disbursements,
      payments: this.state.payments,
      chargebacks: orderChargebacks?.chargebacks,
      receivables: orderChargebacks?.receivables,
    });
    if (this.state.storedKept.has(item.key))
      this.state.storedKept.set(item.key, {
        outcome: decision.status,
        reason: decision.reason ?? null,
      });
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
          order_id: command.orderId,
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
    const payment =
      command.type === 'PAYMENT_CONFIRMED'
        ? paymentRow(command, decision, [], item.hash, {
            confirmedAt: item.event.occurredAt,
            now: this.state.now,
          })
        : undefined;
    const decided: DecidedEvent = {
      event: item.event,
      key: item.key,
      hash: item.hash,
      decision,
      firstDraft: this.drafts.length,
      owner,
      payment,
    };
    this.decided.push(decided);
    this.changeSettlements(decision, decided);
    owner.ledgerTransactions += decision.transactions.length;
    for (const draft of decision.transactions) {
      this.drafts.push({ draft, cause: { eventId: command.eventId, topic: item.event.topic } });
      if (draft.release) {
        const key = `${draft.release.providerId}/${draft.release.gross.currency}`;
        this.state.volume.set(key, (this.state.volume.get(key) ?? 0n) + draft.release.gross.minor);
      }
    }
    if (command.type === 'PAYMENT_CONFIRMED') {
      const row = payment;
      if (row?.status === 'APPLIED' && command.milestoneId !== null)
        addFunding(
          this.state.fundedBy,
          command.orderId,
          command.milestoneId,
          command.gatewayReference,
        );
      if (row && row.status !== 'PENDING_ORDER')
        this.paymentArrived(command, row.amount_minor, row.applied_minor, owner);
    }
    if (decision.status === 'KEPT' && !replaying && (order === null || decision.awaiting))
      this.keep(item, decision.awaiting ?? null);
    if (command.type === 'ORDER_OPENED' && decision.status === 'APPLIED') {
      for (const kept of this.state.kept.get(command.orderId) ?? []) this.replay(kept, owner);
      this.state.kept.delete(command.orderId);
    }
    return decision;
  }

  /**
   * Replays a kept event. Kept again for something besides its order (a
   * chargeback whose payment has not arrived), it waits for that instead.
   */
  private replay(kept: KeptEvent, owner: ResultSoFar): void {
    const decision = this.decideOne(kept, owner, true);
    if (decision.status === 'KEPT' && decision.awaiting !== undefined) {
      keptFor(this.state.keptAwaiting, decision.awaiting).push(kept);
      if (kept.keptId !== null)
        this.rekept.push({ kept_id: kept.keptId, awaiting: decision.awaiting });
      else this.keptRows[kept.row!]!.awaiting = decision.awaiting;
      return;
    }
    if (kept.keptId !== null) this.replayedKeptIds.push(kept.keptId);
    else this.keptRows[kept.row!]!.replayed_at = this.state.now;
  }

  /** A payment applied or refunded: chargebacks can find it, and those waiting for it replay. */
  private paymentArrived(
    command: EscrowCommand & { type: 'PAYMENT_CONFIRMED' },
    amountMinor: string,
    appliedMinor: string,
    owner: ResultSoFar,
  ): void {
    const key = paymentKey(command.gateway, command.gatewayReference);
    this.state.payments.set(key, {
      gateway: command.gateway,
      gatewayReference: command.gatewayReference,
      orderId: command.orderId,
      milestoneId: command.milestoneId,
      amount: money(command.currency, BigInt(amountMinor)),
      applied: money(command.currency, BigInt(appliedMinor)),
    });
    const waiting = this.state.keptAwaiting.get(key);
    if (waiting === undefined) return;
    this.state.keptAwaiting.delete(key);
    for (const kept of waiting) this.replay(kept, owner);
  }

  private chargebacksOf(order: Order): ReturnType<typeof chargebackContext> {
    let context = this.chargebackContexts.get(order.orderId);
    if (context === undefined) {
      context = chargebackContext(this.state.chargebacks, order);
      this.chargebackContexts.set(order.orderId, context);
    }
    return context;
  }

  /** What a decision did to payouts, refunds and chargebacks, as the next event will read it. */
  private changeSettlements(decision: Decision, decided: DecidedEvent): void {
    for (const change of decision.settlements ?? []) {
      const read = this.state.disbursements.get(change.outcomeId)!;
      this.state.disbursements.set(change.outcomeId, { ...read, state: change.state });
      this.settled.push({
        outcome_id: change.outcomeId,
        state: change.state,
        failure_reason: change.reason,
        settlement_gateway: change.gateway,
        settlement_reference: change.gatewayReference,
        settlement_event_id: decided.event.command.eventId,
      });
    }
    for (const chargeback of decision.chargebacks ?? []) {
      this.chargebackContexts.clear();
      const created = !this.state.chargebacks.has(chargeback.paymentKey);
      this.state.chargebacks.set(chargeback.paymentKey, chargeback);
      let changes = this.chargebackChanges.get(chargeback.paymentKey);
      if (changes === undefined) this.chargebackChanges.set(chargeback.paymentKey, (changes = []));
      changes.push({ chargeback, created, decided });
    }
  }

  private keep(item: KeyedEvent, awaiting: string | null): void {
    const { event } = item;
    const kept = { event, key: item.key, hash: item.hash, keptId: null, row: this.keptRows.length };
    if (awaiting === null) keptFor(this.state.kept, event.command.orderId).push(kept);
    else keptFor(this.state.keptAwaiting, awaiting).push(kept);
    this.keptRows.push({
      order_id: event.command.orderId,
      dedupe_key: item.key,
      topic: event.topic,
      command: {
        command: event.command,
        occurredAt: event.occurredAt.toISOString(),
        partition: event.partition,
        offset: event.offset,
        traceparent: event.traceparent,
        tracestate: event.tracestate,
      },
      replayed_at: null,
      awaiting,
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
      this.state.orders.set(orderId, decision.order);
    }
    if (decision.milestones.length === 0) return;
    // A new list (the decision read the old one), in milestone order; an
    // order has a few milestones, so a scan finds each, and only a new one
    // makes the list sort again.
    const milestones = [...(this.state.milestones.get(command.orderId) ?? [])];
    let added = false;
    for (const milestone of decision.milestones) {
      const index = milestones.findIndex((m) => m.milestoneId === milestone.milestoneId);
      noteMilestoneChange(
        this.milestoneChanges,
        milestone,
        index < 0 ? null : milestones[index]!.version,
      );
      if (index < 0) {
        milestones.push(milestone);
        added = true;
      } else milestones[index] = milestone;
    }
    if (added) milestones.sort((a, b) => compareCodePoints(a.milestoneId, b.milestoneId));
    this.state.milestones.set(command.orderId, milestones);
  }
}

/**
 * The order's chargebacks, and its provider's receivables still to recover in
 * its currency, oldest first (the map keeps the load's order, new ones last).
 */
function chargebackContext(all: ReadonlyMap<string, Chargeback>, order: Order) {
  const chargebacks = new Map<string, Chargeback>();
  const receivables: Chargeback[] = [];
  for (const [key, chargeback] of all) {
    if (chargeback.orderId === order.orderId) chargebacks.set(key, chargeback);
    if (
      chargeback.providerId === order.providerId &&
      chargeback.amount.currency === order.currency &&
      !chargeback.reversed &&
      chargeback.recovered.minor < chargeback.receivable.minor
    )
      receivables.push(chargeback);
  }
  return { chargebacks, receivables };
}
