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
 *   → write (slice-write.ts): the ledger's ids and chain heads, then
 *     orders, milestones (each once, version-guarded), payments, kept events,
 *     the outbox (in event order) and the inbox verdicts in one statement
 *     (batch-write.ts), and last the ledger itself (accounts locked, running
 *     balances, hash chain, multi-row), so that accounts shared across
 *     orders are held only from there to the commit
 *   → once committed, its outbox rows go to settings.committedOutbox (the
 *     relay's offer, src/outbox/relay.ts), which then need not read them back.
 *
 * Anything it cannot apply — a ledger refusal, a database error — throws, the
 * whole transaction rolls back, and the caller applies the slice's events
 * again one at a time (apply-event.ts), which isolates the one at fault. So a
 * slice only ever has to be right about slices that succeed entirely.
 */
import type { Knex } from 'knex';
import type { EventResult, InboundEvent, PipelineSettings } from './events';
import { inboxKeyOf } from './inbox-key';
import type { OutboxRow } from './outbox';
import type { SliceOptions } from './slice';
import { loadSlice } from './slice-load';
import { SlicePlan } from './slice-plan';
import { writeSlice } from './slice-write';

export type { SliceOptions } from './slice';

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
    const { results, outbox } = await db.transaction((trx) =>
      applySlice(trx, settings, events, options),
    );
    // Committed: the relay may publish these rows without reading them back.
    // Only a shortcut: a failure here must not turn a commit into an error
    // (the slice would be applied again), and the table still has the rows.
    if (outbox.length > 0) {
      try {
        settings.committedOutbox?.(outbox);
      } catch {
        // The relay reads them from the table instead.
      }
    }
    return results;
  }
  try {
    await db.transaction(async (trx) => {
      throw new DryRunDone((await applySlice(trx, settings, events, options)).results);
    });
  } catch (error) {
    if (error instanceof DryRunDone) return error.results;
    throw error;
  }
  throw new Error('a dry run always rolls back');
}

/** load → plan → write, in the caller's transaction: each event's result, and the outbox rows written. */
async function applySlice(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  events: readonly InboundEvent[],
  options: SliceOptions,
): Promise<{ results: EventResult[]; outbox: readonly OutboxRow[] }> {
  const keyed = events.map((event) => ({ event, ...inboxKeyOf(event.command) }));
  const state = await loadSlice(trx, settings, keyed, options);
  const plan = new SlicePlan(state);
  const results = plan.planAll(keyed);
  const outbox = await writeSlice(trx, plan, settings.topicPrefix);
  return {
    results: results.map(({ verdict, reason, outcomeIds, ledgerTransactions }) => ({
      verdict,
      ...(reason === undefined ? {} : { reason }),
      outcomeIds,
      ledgerTransactions,
    })),
    outbox,
  };
}
