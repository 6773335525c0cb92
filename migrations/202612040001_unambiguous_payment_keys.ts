/**
 * Why: a payment's inbox key was `payment:<gateway>:<reference>`, joined with
 * ":" unescaped, so ("adyen:eu", "psp-1") and ("adyen", "eu:psp-1") shared a
 * key and the second payment was answered DUPLICATE without reaching the
 * ledger. Keys are now `payment:` and the two as a JSON array
 * (src/domain/escrow/idempotency.ts, dedupeKey). This rewrites the key of
 * every payment the inbox holds a payments row for, which names its gateway
 * and reference apart, so a callback retried after the upgrade still finds
 * its row; kept events follow their inbox row.
 *
 * Payments refused before they had a row (an invalid amount or currency)
 * keep their old key: a redelivery of one is refused again, once more, and
 * moves nothing. Conflict markers (`conflict:payment:...`) stay too: a
 * conflicting redelivery is answered once more. Substance hashes are left as
 * they are: a hash without the "v2:" prefix is compared with the substance
 * as it was before (src/pipeline/inbox-key.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One payments row per old key, or the rewrite could not tell which key is whose.
  const { rows: shared } = await knex.raw<{ rows: { old_key: string; payments: string }[] }>(`
    SELECT 'payment:' || gateway || ':' || gateway_reference AS old_key, count(*) AS payments
    FROM payments GROUP BY 1 HAVING count(*) > 1`);
  if (shared.length > 0) {
    throw new Error(
      `payments share an old inbox key (${shared.map((row) => row.old_key).join(', ')}): ` +
        'resolve them by hand before migrating; the inbox cannot say which row is whose',
    );
  }
  await knex.raw(`
    ALTER TABLE kept_events DROP CONSTRAINT kept_events_dedupe_key_fkey;

    CREATE TEMP TABLE payment_keys ON COMMIT DROP AS
      SELECT 'payment:' || gateway || ':' || gateway_reference AS old_key,
             'payment:[' || to_json(gateway)::text || ',' || to_json(gateway_reference)::text || ']'
               AS new_key
      FROM payments;

    UPDATE inbox SET dedupe_key = k.new_key
      FROM payment_keys k WHERE inbox.dedupe_key = k.old_key;
    UPDATE kept_events SET dedupe_key = k.new_key
      FROM payment_keys k WHERE kept_events.dedupe_key = k.old_key;

    ALTER TABLE kept_events ADD CONSTRAINT kept_events_dedupe_key_fkey
      FOREIGN KEY (dedupe_key) REFERENCES inbox (dedupe_key);
  `);
  // Checked after: no payment is left under its old key.
  const { rows: left } = await knex.raw<{ rows: { count: string }[] }>(`
    SELECT count(*) FROM inbox i JOIN payments p
      ON i.dedupe_key = 'payment:' || p.gateway || ':' || p.gateway_reference`);
  if (left[0]!.count !== '0') {
    throw new Error(`${left[0]!.count} inbox rows kept an old payment key after the rewrite`);
  }
}
