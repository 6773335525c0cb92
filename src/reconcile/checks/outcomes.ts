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
 * checked apart from it. A settlement of an order without a milestone (a
 * chargeback of a SERVICE_FEE payment) is reported by an order outcome,
 * which carries no ledgerTransactionId: for the settlement kinds, an outcome
 * of the same event and order of the matching type counts.
 *
 * settlements_have_outcomes checks the state changes the settlements tables
 * record, money or not (a failed payout moves nothing): each request has its
 * PAYOUT_REQUESTED / REFUND_REQUESTED row (written in the same statement),
 * each settled request its PAYOUT_SETTLED / PAYOUT_FAILED / REFUND_SETTLED /
 * REFUND_FAILED from the settling event, each chargeback its
 * CHARGEBACK_APPLIED and each reversal its CHARGEBACK_REVERSED.
 */
import { durationText } from '../text';
import type { Check, CheckRun } from '../types';

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
             WHERE o.payload->>'ledgerTransactionId' = t.transaction_id::text)
           AND NOT (t.milestone_id IS NULL AND EXISTS (SELECT 1 FROM outbox o
             WHERE o.payload->>'causeEventId' = t.cause_event_id AND o.message_key = t.order_id
               AND o.payload->>'milestoneId' IS NULL
               AND o.type = CASE t.kind WHEN 'CHARGEBACK' THEN 'CHARGEBACK_APPLIED'
                 WHEN 'CHARGEBACK_REVERSAL' THEN 'CHARGEBACK_REVERSED'
                 WHEN 'PAYOUT_SETTLEMENT' THEN 'PAYOUT_SETTLED'
                 WHEN 'REFUND_SETTLEMENT' THEN 'REFUND_SETTLED' END)))
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

interface MissingOutcomeRow {
  total: string;
  expected: string;
  subject_kind: string;
  outcome_id: string | null;
  gateway: string | null;
  gateway_reference: string | null;
  order_id: string;
  cause_event_id: string | null;
  at: Date;
}

/**
 * Each settlements-table change of the window whose outcome was not published.
 * The outbox has no index on its payload: NOT EXISTS in WHERE lets the planner
 * scan it once per branch (a hash anti-join) instead of once per row.
 */
const missingOutcomes = `
  SELECT d.kind || '_REQUESTED' AS expected, d.kind AS subject_kind, d.outcome_id::text AS outcome_id,
    NULL::text AS gateway, NULL::text AS gateway_reference, d.order_id,
    NULL::text AS cause_event_id, d.requested_at AS at
  FROM disbursements d
  WHERE d.requested_at >= :since AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.outcome_id = d.outcome_id)
  UNION ALL
  SELECT settled.expected, d.kind, d.outcome_id::text, NULL, NULL, d.order_id, d.settlement_event_id,
    d.settled_at
  FROM disbursements d
  CROSS JOIN LATERAL (SELECT d.kind || CASE d.state WHEN 'PAID' THEN '_SETTLED' ELSE '_FAILED' END
    AS expected) settled
  WHERE d.settled_at >= :since AND NOT EXISTS (SELECT 1 FROM outbox o
    WHERE o.payload->>'causeEventId' = d.settlement_event_id AND o.message_key = d.order_id
      AND o.type = settled.expected)
  UNION ALL
  SELECT 'CHARGEBACK_APPLIED', 'CHARGEBACK', NULL, c.gateway, c.gateway_reference, c.order_id,
    c.event_id, c.charged_back_at
  FROM chargebacks c
  WHERE c.charged_back_at >= :since AND NOT EXISTS (SELECT 1 FROM outbox o
    WHERE o.payload->>'causeEventId' = c.event_id AND o.message_key = c.order_id
      AND o.type = 'CHARGEBACK_APPLIED')
  UNION ALL
  SELECT 'CHARGEBACK_REVERSED', 'CHARGEBACK', NULL, c.gateway, c.gateway_reference, c.order_id,
    c.reversal_event_id, c.reversed_at
  FROM chargebacks c
  WHERE c.reversed AND c.reversed_at >= :since AND NOT EXISTS (SELECT 1 FROM outbox o
    WHERE o.payload->>'causeEventId' = c.reversal_event_id AND o.message_key = c.order_id
      AND o.type = 'CHARGEBACK_REVERSED')`;

export const settlementsHaveOutcomes: Check = {
  name: 'settlements_have_outcomes',
  invariant: 'DESIGN.md invariant 5: every committed state change has its outcome in the outbox',
  description:
    'every payout and refund requested within the outcome window has its PAYOUT_REQUESTED / ' +
    'REFUND_REQUESTED, every one settled its PAYOUT_SETTLED / PAYOUT_FAILED / REFUND_SETTLED / ' +
    'REFUND_FAILED, every chargeback its CHARGEBACK_APPLIED and every reversal its CHARGEBACK_REVERSED',
  action:
    'the outcome was lost before it was published: the payout service, the buyer or the provider never ' +
    'heard of it; re-derive it from the disbursements or chargebacks row and publish it by hand',
  async run(run: CheckRun) {
    const since = new Date(run.options.now.getTime() - run.options.outcomeWindowMs);
    const { rows } = await run.db.raw<{ rows: MissingOutcomeRow[] }>(
      `WITH missing AS MATERIALIZED (${missingOutcomes})
       SELECT count(*) OVER ()::text AS total, expected, subject_kind, outcome_id, gateway,
         gateway_reference, order_id, cause_event_id, at
       FROM missing ORDER BY at, outcome_id, gateway, gateway_reference LIMIT :limit`,
      { since, limit: run.options.maxExamplesPerCheck },
    );
    for (const row of rows) {
      const ago = durationText(run.options.now.getTime() - row.at.getTime());
      const subject =
        row.outcome_id === null
          ? `chargeback ${row.gateway ?? '?'}/${row.gateway_reference ?? '?'} (order ${row.order_id})`
          : `${row.subject_kind.toLowerCase()} ${row.outcome_id} (order ${row.order_id})`;
      run.found({
        subject,
        problem:
          `changed ${ago} ago` +
          (row.cause_event_id ? ` by event ${row.cause_event_id}` : '') +
          `; no ${row.expected} outcome in the outbox reports it`,
        refs: {
          orderId: row.order_id,
          ...(row.outcome_id ? { outcomeId: row.outcome_id } : {}),
          ...(row.gateway ? { gateway: row.gateway } : {}),
          ...(row.gateway_reference ? { gatewayReference: row.gateway_reference } : {}),
          ...(row.cause_event_id ? { causeEventId: row.cause_event_id } : {}),
        },
      });
    }
    run.foundUnlisted(Number(rows[0]?.total ?? 0) - rows.length);
    run.progress(1, 1);
  },
};
