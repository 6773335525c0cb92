/**
 * Invariant 5 of DESIGN.md, first half: every committed state change has its
 * outcome in the outbox. What can be checked from the database: every ledger
 * transaction (a change of value) is named, as ledgerTransactionId, by an
 * outcome written in the same database transaction. Two limits, on purpose:
 *  - the relay deletes published rows after its retention (7 days), so only
 *    transactions younger than outcomeWindowMs (6 days) are checked;
 *  - a SERVICE_FEE payment (platform revenue at once) publishes no outcome in
 *    the escrow domain today, so it is not expected to have one.
 * Milestone changes without money (reached, a dispute on an unfunded
 * milestone) leave no trace besides the outbox row itself, so they cannot be
 * checked apart from it.
 */
import { durationText } from '../text';
import type { Check } from '../types';

interface MissingRow {
  total: string;
  transaction_id: string;
  kind: string;
  order_id: string | null;
  milestone_id: string | null;
  cause_event_id: string;
  created_at: Date;
}

export const ledgerTransactionsHaveOutcomes: Check = {
  name: 'ledger_transactions_have_outcomes',
  invariant: 'DESIGN.md invariant 5: every committed state change has its outcome in the outbox',
  description:
    'every ledger transaction younger than the outcome window (except SERVICE_FEE, which publishes none) ' +
    'is named by an outcome in the outbox',
  action:
    'the outcome was lost or deleted before it was published: consumers (payouts, refunds) never heard ' +
    'of this movement; re-derive the outcome from the transaction and publish it by hand',
  async run(run) {
    const since = new Date(run.options.now.getTime() - run.options.outcomeWindowMs);
    // The outbox is small (pruned after days): Postgres hashes it once for the anti-join.
    // MATERIALIZED keeps the LIMIT out of that plan: planned for a few rows, the
    // anti-join would probe the whole outbox once per transaction.
    const { rows } = await run.db.raw<{ rows: MissingRow[] }>(
      `WITH missing AS MATERIALIZED (
         SELECT t.transaction_id, t.kind, t.order_id, t.milestone_id, t.cause_event_id, t.created_at
         FROM ledger_transactions t
         WHERE t.created_at >= ? AND t.kind <> 'SERVICE_FEE'
           AND NOT EXISTS (SELECT 1 FROM outbox o
             WHERE o.payload->>'ledgerTransactionId' = t.transaction_id::text))
       SELECT count(*) OVER ()::text AS total, transaction_id::text, kind, order_id, milestone_id,
         cause_event_id, created_at
       FROM missing ORDER BY missing.transaction_id LIMIT ?`,
      [since, run.options.maxExamplesPerCheck],
    );
    for (const row of rows) {
      const ago = durationText(run.options.now.getTime() - row.created_at.getTime());
      run.found({
        subject: `transaction ${row.transaction_id} (${row.kind} for ${row.order_id ?? '-'}/${row.milestone_id ?? '-'})`,
        problem: `written ${ago} ago by event ${row.cause_event_id}; no outcome in the outbox names it`,
        refs: {
          transactionId: row.transaction_id,
          ...(row.order_id ? { orderId: row.order_id } : {}),
          ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
          causeEventId: row.cause_event_id,
        },
      });
    }
    const total = Number(rows[0]?.total ?? 0);
    run.foundUnlisted(total - rows.length);
    run.progress(1, 1);
  },
};
