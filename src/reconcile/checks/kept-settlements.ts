/**
 * Settlements kept without what they settle (CONTRACT.md, escrow.settlements.v1:
 * a settlement for an outcome that does not exist yet is kept, like a payment
 * before its order). Two kinds wait in kept_events with `awaiting` set:
 *  - a PAYOUT_* / REFUND_* naming an outcomeId no request has
 *    (`outcome:<id>`): escrow-worker makes every outcomeId itself, so this is
 *    a mistake upstream, and nothing replays it by itself;
 *  - a CHARGEBACK or CHARGEBACK_REVERSED whose payment has not been applied
 *    (`awaiting` = the payment's inbox key): the payment travels on another
 *    topic, and applying it replays the chargeback in the same transaction.
 * Each is a finding past the unmatched threshold, and at once when what it
 * waits for is there (a request with that outcomeId, the payment applied):
 * then the replay was missed and the money has not moved in the ledger.
 * Settlements kept for an order not opened yet (`awaiting` NULL) and failed
 * replays are kept_events_unreplayed's. The set is small in a healthy system
 * and has the partial index kept_events_awaiting; it is MATERIALIZED so that
 * the LIMIT cannot steer its plan.
 */
import { durationText } from '../text';
import type { Check, CheckRun, Discrepancy } from '../types';

interface KeptSettlementRow {
  total: string;
  kept_id: string;
  order_id: string;
  dedupe_key: string;
  awaiting: string;
  received_at: Date;
  type: string | null;
  gateway: string | null;
  gateway_reference: string | null;
  amount: string | null;
  currency: string | null;
  outcome_id: string | null;
  request_state: string | null;
  payment_status: string | null;
}

const uuidPattern = `'^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'`;

/** The settlement as kept (kept_events.command is {command, occurredAt, partition, offset}). */
const keptSql = `
  WITH kept AS MATERIALIZED (
    SELECT k.kept_id, k.order_id, k.dedupe_key, k.awaiting, k.received_at,
      k.command->'command'->>'type' AS type, k.command->'command'->>'gateway' AS gateway,
      k.command->'command'->>'gatewayReference' AS gateway_reference,
      k.command->'command'->>'amount' AS amount, k.command->'command'->>'currency' AS currency,
      CASE WHEN k.awaiting LIKE 'outcome:%' THEN substr(k.awaiting, 9) END AS outcome_id
    FROM kept_events k
    WHERE k.replayed_at IS NULL AND k.awaiting IS NOT NULL AND k.failed_reason IS NULL
  ), compared AS MATERIALIZED (
    SELECT kept.*, d.state AS request_state, p.status AS payment_status
    FROM kept
    -- An awaiting text that is not a uuid names no request (and must not fail the cast).
    LEFT JOIN disbursements d ON d.outcome_id = CASE WHEN kept.outcome_id ~ ${uuidPattern}
      THEN kept.outcome_id::uuid END
    -- A chargeback names its payment by gateway and reference, as the payment's key does.
    LEFT JOIN payments p ON kept.outcome_id IS NULL AND p.gateway = kept.gateway
      AND p.gateway_reference = kept.gateway_reference
  )
  SELECT count(*) OVER ()::text AS total, kept_id::text, order_id, dedupe_key, awaiting, received_at,
    type, gateway, gateway_reference, amount, currency, outcome_id, request_state, payment_status
  FROM compared
  WHERE received_at <= :before OR request_state IS NOT NULL
    OR coalesce(payment_status, 'PENDING_ORDER') <> 'PENDING_ORDER'
  ORDER BY received_at, kept_id LIMIT :limit`;

function keptDiscrepancy(run: CheckRun, row: KeptSettlementRow): Discrepancy {
  const waited = `kept for ${durationText(run.options.now.getTime() - row.received_at.getTime())}`;
  const amount =
    row.amount === null || row.currency === null ? '' : ` for ${row.amount} ${row.currency}`;
  const settlement = `${row.type ?? 'settlement'} ${row.gateway ?? '?'}/${row.gateway_reference ?? '?'}`;
  const byOutcome = row.outcome_id !== null;
  const problem = byOutcome
    ? row.request_state === null
      ? `${waited}${amount}; it names outcome ${row.outcome_id}, which no payout or refund request has`
      : `${waited}${amount}; request ${row.outcome_id} exists (${row.request_state}) but the settlement ` +
        'was never applied to it'
    : row.payment_status === null || row.payment_status === 'PENDING_ORDER'
      ? `${waited}${amount}; payment ${row.gateway ?? '?'}/${row.gateway_reference ?? '?'} ` +
        (row.payment_status === null ? 'has not arrived' : 'is kept itself, waiting for its order')
      : `${waited}${amount}; payment ${row.gateway ?? '?'}/${row.gateway_reference ?? '?'} is ` +
        `${row.payment_status} but the chargeback was never replayed with it`;
  const action = byOutcome
    ? row.request_state === null
      ? 'ask the payout service or gateway adapter which request this transfer settles (find it with ' +
        "GET /orders/{orderId}); the settlement must name that request's outcomeId"
      : 'nothing replays a settlement kept for its request: escalate to engineering with the kept id, ' +
        'and do not retry the request until the gateway says whether this transfer was paid'
    : row.payment_status === null || row.payment_status === 'PENDING_ORDER'
      ? 'ask the gateway adapter for the payment confirmation of this reference (a lost or dead-lettered ' +
        'PAYMENT_CONFIRMED: escrow-worker dlq list); the chargeback is applied with it'
      : 'the chargeback did not move money it should have: escalate to engineering with the kept id';
  return {
    subject: `kept settlement ${settlement} (order ${row.order_id})`,
    problem,
    action,
    refs: {
      keptId: row.kept_id,
      orderId: row.order_id,
      dedupeKey: row.dedupe_key,
      awaiting: row.awaiting,
      ...(row.outcome_id ? { outcomeId: row.outcome_id } : {}),
      ...(row.gateway ? { gateway: row.gateway } : {}),
      ...(row.gateway_reference ? { gatewayReference: row.gateway_reference } : {}),
    },
  };
}

export const settlementsKept: Check = {
  name: 'settlements_kept',
  invariant:
    'CONTRACT.md settlements: a settlement for an outcome (or a payment) not known is kept, and listed',
  description:
    'settlements kept waiting for a payout or refund request (an unknown outcomeId) or for the payment a ' +
    'chargeback names, past the unmatched threshold, or at once when that request or payment is there',
  action:
    'a kept settlement is money the gateway says moved and the ledger has not recorded: find what it ' +
    'should settle (the outcomeId of a PAYOUT_REQUESTED / REFUND_REQUESTED, the payment by its reference) ' +
    'and have the sender correct it; each example says what it waits for',
  async run(run) {
    const before = new Date(run.options.now.getTime() - run.options.unmatchedPaymentAfterMs);
    const { rows } = await run.db.raw<{ rows: KeptSettlementRow[] }>(keptSql, {
      before,
      limit: run.options.maxExamplesPerCheck,
    });
    for (const row of rows) run.found(keptDiscrepancy(run, row));
    run.foundUnlisted(Number(rows[0]?.total ?? 0) - rows.length);
    run.progress(1, 1);
  },
};
