/**
 * Why: a payout or refund asked for again (`escrow-worker payouts retry`,
 * `refunds retry`) names the failed request it replaces in `retry_of`, and
 * two readers look requests up by it: the retry's own check for an earlier
 * retry of the same request (src/store/disbursement-retries.ts,
 * replacementOf, inside the retry's transaction under the order's locks)
 * and a provider's payouts (src/views/provider-payouts.ts, which joins each
 * payout to its retry). Without an index both read the whole table: about
 * 34 ms on 300,000 requests for the retry, per payout for the view. Partial:
 * only retries have `retry_of`, so the index holds a few rows and costs the
 * pipeline's inserts (which never set it) nothing.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `CREATE INDEX disbursements_by_retry_of ON disbursements (retry_of) WHERE retry_of IS NOT NULL;`,
  );
}
