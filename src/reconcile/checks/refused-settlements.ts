/**
 * Settlements refused INVALID_STATE or SETTLEMENT_MISMATCH (CONTRACT.md,
 * escrow.settlements.v1). Each is the gateway or the payout service saying
 * money moved in a way the ledger did not record: a request settled a
 * second time (paid twice, paid after it failed and before a retry, an old
 * outcome of a retried request), an amount or currency other than the one
 * asked, a payout's outcomeId sent as a refund's, a chargeback larger than
 * its payment or a reversal of one that does not stand. Nothing moved, so no
 * other check can see them: they are listed from the inbox, where the
 * refusal is recorded under the settlement's key (`settlement:[gateway,
 * reference, type]`), for the refused-settlement window; the EVENT_REJECTED
 * outcome's message (while the outbox keeps it) says the figures. The inbox
 * is as large as the event history, so it is scanned in chunks of its key.
 */
import { forEachChunk, inRange } from '../scan';
import { durationText } from '../text';
import type { Check, CheckRun, Discrepancy } from '../types';

const refusalReasons = ['INVALID_STATE', 'SETTLEMENT_MISMATCH'];

interface RefusedRow {
  dedupe_key: string;
  event_id: string;
  reason: string;
  received_at: Date;
}

interface MessageRow {
  event_id: string;
  order_id: string;
  message: string | null;
}

/** [gateway, reference, type] from the key; the key is JSON after its prefix (src/domain/escrow/idempotency.ts). */
function keyParts(dedupeKey: string): { gateway: string; reference: string; type: string } {
  try {
    const parts: unknown = JSON.parse(dedupeKey.slice('settlement:'.length));
    if (Array.isArray(parts) && parts.length === 3 && parts.every((p) => typeof p === 'string')) {
      const [gateway, reference, type] = parts as [string, string, string];
      return { gateway, reference, type };
    }
  } catch {
    // A key that is not JSON: say what is there.
  }
  return { gateway: '?', reference: dedupeKey, type: 'settlement' };
}

const nextStep = (reason: string, type: string): string =>
  reason === 'SETTLEMENT_MISMATCH'
    ? `ask the sender for the figures of the request it settles (the amount and currency asked, the ` +
      `outcomeId of the right kind and order) and have it send them under a new gatewayReference`
    : type.startsWith('PAYOUT') || type.startsWith('REFUND')
      ? `compare both settlements of this request with the gateway (escrow-worker reconcile-gateway): if ` +
        `the money left twice, recover it; if a request the ledger has FAILED was in fact paid, do not ` +
        `retry it (that would pay it again) and correct the ledger first`
      : 'compare the chargeback and its reversal with the gateway (escrow-worker reconcile-gateway)';

function refusedDiscrepancy(
  run: CheckRun,
  row: RefusedRow,
  message: MessageRow | undefined,
): Discrepancy {
  const { gateway, reference, type } = keyParts(row.dedupe_key);
  const ago = durationText(run.options.now.getTime() - row.received_at.getTime());
  return {
    subject: `${type} ${gateway}/${reference}${message ? ` (order ${message.order_id})` : ''}`,
    problem:
      `refused ${row.reason} ${ago} ago (event ${row.event_id}); the ledger did not record it: ` +
      (message?.message ?? 'its EVENT_REJECTED outcome is no longer in the outbox'),
    action: nextStep(row.reason, type),
    refs: {
      gateway,
      gatewayReference: reference,
      type,
      reason: row.reason,
      eventId: row.event_id,
      dedupeKey: row.dedupe_key,
      ...(message ? { orderId: message.order_id } : {}),
    },
  };
}

export const settlementsRefused: Check = {
  name: 'settlements_refused',
  invariant:
    'DESIGN.md invariant 6 and CONTRACT.md settlements: a second settlement of one request, or one that ' +
    'does not match it, is refused and listed',
  description:
    'settlements refused INVALID_STATE (a request settled again, a reversal of no standing chargeback) or ' +
    'SETTLEMENT_MISMATCH (figures other than those asked) within the refused-settlement window',
  action:
    'each is money the gateway says moved and the ledger did not record: settle it with the gateway and the ' +
    'sender as its next step says; it leaves this list when it is older than the window',
  async run(run) {
    const since = new Date(run.options.now.getTime() - run.options.refusedSettlementWindowMs);
    const listed: RefusedRow[] = [];
    let unlisted = 0;
    const scan = { table: 'inbox', columns: ['dedupe_key'], total: run.totals.events };
    await forEachChunk(run, scan, async (range) => {
      const chunk = inRange(['i.dedupe_key'], range);
      const { rows } = await run.db.raw<{ rows: RefusedRow[] }>(
        `SELECT i.dedupe_key, i.event_id, i.reason, i.received_at
         FROM inbox i
         WHERE ${chunk.sql} AND i.dedupe_key LIKE 'settlement:%' AND i.outcome = 'REJECTED'
           AND i.reason = ANY(?::text[]) AND i.received_at >= ?
         ORDER BY i.dedupe_key`,
        [...chunk.bindings, refusalReasons, since],
      );
      for (const row of rows) {
        if (listed.length < run.options.maxExamplesPerCheck) listed.push(row);
        else unlisted += 1;
      }
    });
    // The refusals' messages, for the listed ones only: one look at the (pruned, small) outbox.
    const { rows: messages } = await run.db.raw<{ rows: MessageRow[] }>(
      // An EVENT_REJECTED's cause is the refused event itself.
      `SELECT DISTINCT ON (payload->>'causeEventId') payload->>'causeEventId' AS event_id,
         message_key AS order_id, payload->>'message' AS message
       FROM outbox
       WHERE type = 'EVENT_REJECTED' AND payload->>'causeEventId' = ANY(?::text[])
         AND payload->>'reason' = ANY(?::text[])
       ORDER BY payload->>'causeEventId', outbox_id`,
      [listed.map((row) => row.event_id), refusalReasons],
    );
    const byEvent = new Map(messages.map((message) => [message.event_id, message]));
    for (const row of listed) run.found(refusedDiscrepancy(run, row, byEvent.get(row.event_id)));
    run.foundUnlisted(unlisted);
  },
};
