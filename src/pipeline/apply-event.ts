/**
 * The path of one message, from the inbox to the outbox, in ONE database
 * transaction (DESIGN.md steps 3–4):
 *   inbox row (dedupe on gateway reference or eventId, with the substance's
 *   hash) → lock the order → decide → version-guarded save → ledger postings →
 *   payment row → kept event (order not known yet) → outbox rows; and, when an
 *   order opens, every event kept for it, replayed in arrival order.
 * Commit, then the caller commits the Kafka offset. A crash in between
 * redelivers the message, and the inbox makes the second delivery a no-op.
 */
import type { Knex } from 'knex';
import { type Decision, type DecisionContext, decide, type EscrowCommand } from '../domain/escrow';
import { zero } from '../domain/money';
import { postTransactions } from '../ledger/post-transactions';
import { loadOrder, lockOrderKey, saveDecision } from '../store/orders';
import { conflictKey, idempotencyConflictOutcome } from './idempotency-conflict';
import { inboxKeyOf, sameSubstance } from './inbox-key';
import { isPermanent } from './retry';
import { policyInForceAt, providerVolume } from './fee-context';
import { writeOutcomes } from './outbox';
import { recordPayment } from './payments';

export interface InboundEvent {
  readonly topic: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly occurredAt: Date;
  readonly command: EscrowCommand;
}

export interface PipelineSettings {
  readonly topicPrefix: string;
  /** PLATFORM_FEE_RATE: the policy when no effective-dated version applies. */
  readonly defaultFeeRate: string;
  readonly now: () => Date;
}

export type Verdict = Decision['status'] | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT';

export interface EventResult {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly outcomeIds: readonly string[];
  /** Ledger transactions this event posted (kept events replayed with it included). */
  readonly ledgerTransactions: number;
}

export async function applyEvent(
  db: Knex,
  settings: PipelineSettings,
  event: InboundEvent,
): Promise<EventResult> {
  return db.transaction(async (trx) => {
    const now = settings.now();
    const { key, hash } = inboxKeyOf(event.command);
    const inboxRow = {
      event_id: event.command.eventId,
      topic: event.topic,
      kafka_partition: event.partition,
      kafka_offset: event.offset,
      payload_hash: hash,
    };
    const fresh = await trx('inbox')
      .insert({ ...inboxRow, dedupe_key: key, outcome: 'UNCHANGED' })
      .onConflict('dedupe_key')
      .ignore()
      .returning('dedupe_key');
    if (fresh.length === 0) return answerRepeat(trx, settings, event, key, hash, now);

    const result = await decideAndApply(trx, settings, event, { key, hash, now });
    await trx('inbox')
      .where({ dedupe_key: key })
      .update({ outcome: result.verdict, reason: result.reason ?? null });
    return result;
  });
}

/** A key seen before: the same substance is a duplicate; another is a conflict, reported once. */
async function answerRepeat(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  event: InboundEvent,
  key: string,
  hash: string,
  now: Date,
): Promise<EventResult> {
  const stored = await trx('inbox').where({ dedupe_key: key }).first<{ payload_hash: string }>();
  if (stored !== undefined && sameSubstance(stored.payload_hash, event.command, hash))
    return { verdict: 'DUPLICATE', outcomeIds: [], ledgerTransactions: 0 };
  // Each distinct conflicting substance is answered once, even when redelivered.
  const recorded = await trx('inbox')
    .insert({
      dedupe_key: conflictKey(key, hash),
      event_id: event.command.eventId,
      topic: event.topic,
      kafka_partition: event.partition,
      kafka_offset: event.offset,
      payload_hash: hash,
      outcome: 'IDEMPOTENCY_CONFLICT',
      reason: 'IDEMPOTENCY_CONFLICT',
    })
    .onConflict('dedupe_key')
    .ignore()
    .returning('dedupe_key');
  if (recorded.length === 0) return { verdict: 'DUPLICATE', outcomeIds: [], ledgerTransactions: 0 };
  await lockOrderKey(trx, event.command.orderId);
  const outcomeIds = await writeOutcomes(trx, [idempotencyConflictOutcome(event.command, key)], {
    eventId: event.command.eventId,
    transactionIds: [],
    now,
    topicPrefix: settings.topicPrefix,
  });
  return {
    verdict: 'IDEMPOTENCY_CONFLICT',
    reason: 'IDEMPOTENCY_CONFLICT',
    outcomeIds,
    ledgerTransactions: 0,
  };
}

async function decideAndApply(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  event: InboundEvent,
  seen: { key: string; hash: string; now: Date },
): Promise<EventResult> {
  const { command } = event;
  const { now } = seen;
  const stored = await loadOrder(trx, command.orderId, { lock: true });
  const feePolicy = await policyInForceAt(trx, now, settings.defaultFeeRate);
  const context: DecisionContext = {
    now,
    order: stored.order,
    milestones: stored.milestones,
    feePolicy,
    providerVolume: stored.order
      ? await providerVolume(trx, stored.order, feePolicy, now)
      : zero(command.type === 'PAYMENT_CONFIRMED' ? command.currency : 'USD'),
    fundingReferences: stored.order ? await fundingReferences(trx, command.orderId) : {},
  };
  const decision = decide(command, context);
  await saveDecision(trx, decision, stored, {
    eventId: command.eventId,
    occurredAt: event.occurredAt,
  });
  const transactionIds = await postTransactions(trx, decision.transactions, {
    eventId: command.eventId,
    topic: event.topic,
  });
  if (command.type === 'PAYMENT_CONFIRMED') {
    await recordPayment(trx, command, decision, transactionIds, seen.hash, {
      confirmedAt: event.occurredAt,
      now,
    });
  }
  if (decision.status === 'KEPT' && stored.order === null) {
    await trx('kept_events')
      .insert({
        order_id: command.orderId,
        dedupe_key: seen.key,
        topic: event.topic,
        command: {
          command,
          occurredAt: event.occurredAt.toISOString(),
          partition: event.partition,
          offset: event.offset,
        },
      })
      .onConflict('dedupe_key')
      .ignore();
  }
  const outcomeIds = [
    ...(await writeOutcomes(trx, decision.outcomes, {
      eventId: command.eventId,
      transactionIds,
      now,
      topicPrefix: settings.topicPrefix,
    })),
  ];
  let ledgerTransactions = transactionIds.length;
  if (command.type === 'ORDER_OPENED' && decision.status === 'APPLIED') {
    const replayed = await replayKept(trx, settings, command.orderId, now);
    outcomeIds.push(...replayed.outcomeIds);
    ledgerTransactions += replayed.ledgerTransactions;
  }
  return { verdict: decision.status, reason: decision.reason, outcomeIds, ledgerTransactions };
}

/** Applies, in arrival order, every event kept while its order was unknown. */
async function replayKept(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  orderId: string,
  now: Date,
): Promise<{ outcomeIds: string[]; ledgerTransactions: number }> {
  const kept = await trx('kept_events')
    .where({ order_id: orderId })
    .whereNull('replayed_at')
    .orderBy('kept_id')
    .select<{ kept_id: string; dedupe_key: string; topic: string; command: StoredKept }[]>();
  const outcomeIds: string[] = [];
  let ledgerTransactions = 0;
  for (const row of kept) {
    const inbox = await trx('inbox')
      .where({ dedupe_key: row.dedupe_key })
      .first<{ payload_hash: string }>();
    const event: InboundEvent = {
      topic: row.topic,
      partition: row.command.partition,
      offset: row.command.offset,
      occurredAt: new Date(row.command.occurredAt),
      command: row.command.command,
    };
    // Each kept event in a savepoint: one that cannot be applied must not stop
    // its order from opening. It stays kept, with the reason, for reconciliation.
    let result: EventResult;
    try {
      result = await trx.transaction((savepoint) =>
        decideAndApply(savepoint, settings, event, {
          key: row.dedupe_key,
          hash: inbox.payload_hash,
          now,
        }),
      );
    } catch (error) {
      if (!isPermanent(error)) throw error;
      const reason = `replay failed: ${(error as Error).message}`;
      await trx('kept_events').where({ kept_id: row.kept_id }).update({ failed_reason: reason });
      await trx('inbox')
        .where({ dedupe_key: row.dedupe_key })
        .update({ outcome: 'REJECTED', reason });
      continue;
    }
    await trx('kept_events').where({ kept_id: row.kept_id }).update({ replayed_at: now });
    await trx('inbox')
      .where({ dedupe_key: row.dedupe_key })
      .update({ outcome: result.verdict, reason: result.reason ?? null });
    outcomeIds.push(...result.outcomeIds);
    ledgerTransactions += result.ledgerTransactions;
  }
  return { outcomeIds, ledgerTransactions };
}

interface StoredKept {
  command: EscrowCommand;
  occurredAt: string;
  partition: number | null;
  offset: string | null;
}

async function fundingReferences(trx: Knex.Transaction, orderId: string) {
  const rows = await trx('payments')
    .where({ order_id: orderId, status: 'APPLIED' })
    .whereNotNull('milestone_id')
    .orderBy('payment_id')
    .select<{ milestone_id: string; gateway_reference: string }[]>(
      'milestone_id',
      'gateway_reference',
    );
  const references: Record<string, string[]> = {};
  for (const row of rows) (references[row.milestone_id] ??= []).push(row.gateway_reference);
  return references;
}
