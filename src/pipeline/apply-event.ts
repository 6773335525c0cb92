/**
 * One event alone: a slice of one through the same unit of work as every
 * slice (apply-batch.ts), as pgledger's create_transfer is create_transfers
 * with one item. The inspection timer, the consumer's fallback for a slice
 * that failed in bulk, and the tests use it.
 *
 * What a slice of one adds: an ORDER_OPENED must open its order even when one
 * of the events kept for it cannot be replayed (a defect, or a command kept
 * by another build). When the slice fails for good, each kept event is tried
 * in a dry run, in arrival order, until the one that fails is found; it is
 * set aside (it stays kept, marked with the reason, its inbox row REJECTED,
 * and reconciliation lists it) and the slice is applied again without it.
 */
import type { Knex } from 'knex';
import { applyBatch } from './apply-batch';
import type { EventResult, InboundEvent, PipelineSettings } from './events';
import { isPermanent } from './retry';

export async function applyEvent(
  db: Knex,
  settings: PipelineSettings,
  event: InboundEvent,
): Promise<EventResult> {
  const setAside = new Map<string, string>();
  for (;;) {
    try {
      const [result] = await applyBatch(db, settings, [event], { setAside });
      return result!;
    } catch (error) {
      if (!isPermanent(error) || event.command.type !== 'ORDER_OPENED') throw error;
      const failing = await firstFailingReplay(db, settings, event, setAside);
      if (failing === undefined) throw error;
      setAside.set(failing.key, `replay failed: ${failing.message}`);
    }
  }
}

/** The first kept event whose replay makes the slice fail, by dry runs of 1, 2, ... replays. */
async function firstFailingReplay(
  db: Knex,
  settings: PipelineSettings,
  event: InboundEvent,
  setAside: ReadonlyMap<string, string>,
): Promise<{ key: string; message: string } | undefined> {
  const keys = (await db('kept_events')
    .where({ order_id: event.command.orderId })
    .whereNull('replayed_at')
    .orderBy('kept_id')
    .pluck('dedupe_key')) as string[];
  const candidates = keys.filter((key) => !setAside.has(key));
  for (let replays = 1; replays <= candidates.length; replays++) {
    try {
      await applyBatch(db, settings, [event], { setAside, replayLimit: replays, dryRun: true });
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return { key: candidates[replays - 1]!, message: (error as Error).message };
    }
  }
  return undefined;
}
