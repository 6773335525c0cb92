/**
 * Why: the operators' console shows an order's timeline, every inbound event
 * it received (applied, kept, rejected with its reason) beside the ledger
 * transactions and outcomes it caused (GET /orders/{orderId}/timeline), and
 * the inbox did not say which order an event was for. The worker now writes
 * the order id of every inbox row it inserts (src/pipeline/batch-write.ts);
 * the index serves the timeline's lookup of one order's rows.
 *
 * Rows written before this migration are filled in from what names their
 * order: kept events and payments (by the row's own dedupe key), the order's
 * opening event, ledger transactions (cause_event_id and cause_topic), the
 * outbox rows the relay has not pruned yet (payload causeEventId and orderId)
 * and settled payouts and refunds (settlement_event_id). An event id that
 * points at more than one order is left alone rather than guessed. What none
 * of them names (a rejected event whose EVENT_REJECTED row was pruned, more
 * than 7 days after it was published) keeps a NULL order id: the timeline of
 * an order older than the outbox's retention says it may miss such events.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE inbox ADD COLUMN order_id text;

    UPDATE inbox SET order_id = k.order_id
    FROM kept_events k WHERE k.dedupe_key = inbox.dedupe_key;

    UPDATE inbox SET order_id = p.order_id
    FROM payments p
    WHERE inbox.order_id IS NULL AND inbox.dedupe_key = 'payment:' || p.gateway || ':' || p.gateway_reference;

    WITH named AS (
      SELECT event_id, topic, min(order_id) AS order_id
      FROM (
        SELECT opened_event_id AS event_id, NULL::text AS topic, order_id FROM orders
        UNION ALL
        SELECT cause_event_id, cause_topic, order_id FROM ledger_transactions WHERE order_id IS NOT NULL
        UNION ALL
        SELECT payload->>'causeEventId', NULL, payload->>'orderId' FROM outbox
        WHERE payload->>'causeEventId' IS NOT NULL AND payload->>'orderId' IS NOT NULL
        UNION ALL
        SELECT settlement_event_id, NULL, order_id FROM disbursements WHERE settlement_event_id IS NOT NULL
      ) sources
      GROUP BY event_id, topic
      HAVING count(DISTINCT order_id) = 1
    ), unambiguous AS (
      -- Without the topic an event id may still name two orders; such ids are skipped.
      SELECT event_id, min(order_id) AS order_id FROM named
      GROUP BY event_id HAVING count(DISTINCT order_id) = 1
    )
    UPDATE inbox SET order_id = u.order_id
    FROM unambiguous u
    WHERE inbox.order_id IS NULL AND inbox.event_id = u.event_id;

    CREATE INDEX inbox_by_order ON inbox (order_id, received_at) WHERE order_id IS NOT NULL;
  `);
}
