/**
 * Payouts and refunds that wait too long (CONTRACT.md, escrow.settlements.v1):
 * a request neither paid nor failed past its threshold (the payout service or
 * gateway adapter never answered, or its answer was lost), and a failed one
 * nobody asked for again (the money stays payable and reaches no one). Both
 * sets are small and share the partial index disbursements_unsettled, so each
 * is one query that counts everything and lists the oldest; the set is
 * MATERIALIZED so that the LIMIT cannot steer its plan.
 */
import { amountText, durationText } from '../text';
import type { Check, CheckRun, Discrepancy } from '../types';

interface WaitingRequestRow {
  total: string;
  outcome_id: string;
  kind: 'PAYOUT' | 'REFUND';
  order_id: string;
  milestone_id: string | null;
  party_id: string;
  currency: string;
  amount: string;
  root_outcome_id: string;
  retry_of: string | null;
  failure_reason: string | null;
  requested_at: Date;
  settled_at: Date | null;
}

function waitingRequests(
  run: CheckRun,
  state: 'REQUESTED' | 'FAILED',
  since: 'requested_at' | 'settled_at',
  ms: number,
) {
  const before = new Date(run.options.now.getTime() - ms);
  return run.db.raw<{ rows: WaitingRequestRow[] }>(
    `WITH waiting AS MATERIALIZED (
       SELECT * FROM disbursements
       WHERE state IN ('REQUESTED', 'FAILED') AND state = :state AND ${since} <= :before)
     SELECT count(*) OVER ()::text AS total, outcome_id::text, kind, order_id, milestone_id, party_id,
       trim(currency) AS currency, amount_minor::text AS amount, root_outcome_id::text,
       retry_of::text, failure_reason, requested_at, settled_at
     FROM waiting ORDER BY ${since}, waiting.outcome_id LIMIT :limit`,
    { state, before, limit: run.options.maxExamplesPerCheck },
  );
}

/** "payout 0f3… of order o-1 to provider p-1" and the ids a machine needs. */
function aboutRequest(row: WaitingRequestRow): Pick<Discrepancy, 'subject' | 'refs'> {
  const party = row.kind === 'PAYOUT' ? 'provider' : 'buyer';
  return {
    subject: `${row.kind.toLowerCase()} ${row.outcome_id} (order ${row.order_id}, ${party} ${row.party_id})`,
    refs: {
      outcomeId: row.outcome_id,
      orderId: row.order_id,
      ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
      partyId: row.party_id,
      currency: row.currency,
      ...(row.root_outcome_id !== row.outcome_id ? { rootOutcomeId: row.root_outcome_id } : {}),
    },
  };
}

const retried = (row: WaitingRequestRow) =>
  row.retry_of === null ? '' : ` (a retry of ${row.retry_of})`;

function report(
  run: CheckRun,
  rows: WaitingRequestRow[],
  describe: (row: WaitingRequestRow) => Discrepancy,
) {
  for (const row of rows) run.found(describe(row));
  run.foundUnlisted(Number(rows[0]?.total ?? 0) - rows.length);
  run.progress(1, 1);
}

export const disbursementsUnsettled: Check = {
  name: 'disbursements_unsettled',
  invariant:
    'CONTRACT.md settlements: every PAYOUT_REQUESTED / REFUND_REQUESTED is answered PAID or FAILED',
  description:
    'payouts and refunds requested and neither paid nor failed longer than the unsettled threshold ' +
    '(the money is in payout: it left the payable for no one knows where)',
  action:
    'ask the payout service (payouts) or the gateway adapter (refunds) what became of the request by its ' +
    'outcomeId: a PAYOUT_PAID / REFUND_PAID or *_FAILED it sent may have been dead-lettered (escrow-worker ' +
    'dlq list) or kept for an outcome it misnamed (settlements_kept)',
  async run(run) {
    const { rows } = await waitingRequests(
      run,
      'REQUESTED',
      'requested_at',
      run.options.unsettledRequestAfterMs,
    );
    report(run, rows, (row) => ({
      ...aboutRequest(row),
      problem:
        `${amountText(row.amount, row.currency)} requested ` +
        `${durationText(run.options.now.getTime() - row.requested_at.getTime())} ago${retried(row)}; ` +
        `no ${row.kind}_PAID or ${row.kind}_FAILED has settled it`,
    }));
  },
};

export const disbursementsFailedNotRetried: Check = {
  name: 'disbursements_failed_not_retried',
  invariant:
    'CONTRACT.md settlements: a failed payout or refund stays payable until an operator asks for it again',
  description:
    'payouts and refunds that failed longer than the failed threshold ago and were not asked for again ' +
    '(the money stays payable and reaches no one)',
  action:
    'fix what the failure reason says with the provider or buyer (new bank details, a closed account), ' +
    'then ask again: escrow-worker payouts retry --outcome <outcomeId> (refunds retry for a refund); ' +
    '--dry-run first shows what would be published',
  async run(run) {
    const { rows } = await waitingRequests(
      run,
      'FAILED',
      'settled_at',
      run.options.failedNotRetriedAfterMs,
    );
    report(run, rows, (row) => ({
      ...aboutRequest(row),
      problem:
        `${amountText(row.amount, row.currency)} failed ` +
        `${durationText(run.options.now.getTime() - row.settled_at!.getTime())} ago ` +
        `(${row.failure_reason ?? 'no reason given'})${retried(row)} and was not asked for again`,
      action: `escrow-worker ${row.kind === 'PAYOUT' ? 'payouts' : 'refunds'} retry --outcome ${row.outcome_id}`,
    }));
  },
};
