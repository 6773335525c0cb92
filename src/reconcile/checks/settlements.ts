/**
 * Invariant 6 of DESIGN.md, first part: every payout and refund request is
 * settled at most once. How a settlement is recorded (src/domain/escrow/
 * settlements.ts, src/store/disbursements.ts): the request's disbursements
 * row goes PAID (or FAILED, and RETRIED when asked again: a new row with the
 * same root_outcome_id), naming the event that settled it; a paid one also
 * gets one PAYOUT_SETTLEMENT / REFUND_SETTLEMENT transaction from that event,
 * whose memo names the request's outcomeId, taking exactly the amount asked
 * from the party's payable into gateway clearing. Checked from three sides:
 *  - per money (root_outcome_id): at most one request PAID, and none still
 *    open (requested, or failed and not retried) beside a paid one;
 *  - per request: a PAID one has exactly that one transaction, for its
 *    amount, from its party's payable; any other has none;
 *  - per settlement transaction: it names a PAID request of its kind and is
 *    that request's settlement (same event, same amount, same party).
 * The disbursements row keeps the settling event, not the transaction, so a
 * request finds its transaction by the event (ledger_transactions_by_cause).
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';

const settlementKindOf = `CASE d.kind WHEN 'PAYOUT' THEN 'PAYOUT_SETTLEMENT' ELSE 'REFUND_SETTLEMENT' END`;
const payableKindOf = `CASE d.kind WHEN 'PAYOUT' THEN 'PROVIDER_PAYABLE' ELSE 'BUYER_REFUND_PAYABLE' END`;

interface RootRow {
  root_outcome_id: string;
  kind: string;
  order_id: string;
  currency: string;
  paid: string;
  open: string;
  requests: string;
  paid_amount: string;
}

interface RequestRow {
  outcome_id: string;
  kind: 'PAYOUT' | 'REFUND';
  order_id: string;
  party_id: string;
  currency: string;
  state: string;
  amount: string;
  settlement_event_id: string | null;
  transactions: string;
  taken: string;
  transaction_ids: string | null;
}

interface TransactionRow {
  transaction_id: string;
  kind: string;
  order_id: string | null;
  cause_event_id: string;
  named_outcome: string | null;
  currency: string;
  taken: string;
  into_clearing: string;
  party_id: string | null;
  request_kind: string | null;
  request_state: string | null;
  request_party: string | null;
  request_amount: string | null;
  request_event: string | null;
}

export const requestsSettledOnce: Check = {
  name: 'requests_settled_once',
  invariant: 'DESIGN.md invariant 6: every payout and refund request is settled at most once',
  description:
    'no money (a request and its retries) is paid twice or paid and still requested; each PAID request has ' +
    'exactly one PAYOUT_SETTLEMENT / REFUND_SETTLEMENT transaction for its amount from its party, no other ' +
    'request has one, and every such transaction settles a PAID request',
  action:
    'a second payment of one request means the money left twice: ask the gateway (by the settlement ' +
    'references) and recover it from the provider or buyer; a row and a ledger that disagree are corrected ' +
    'from the gateway record, the ledger by a reversing transaction',
  async run(run) {
    await moneyPaidOnce(run);
    await forEachChunk(
      run,
      { table: 'disbursements', columns: ['outcome_id'], total: run.totals.disbursements },
      async (range) => requestsMatchLedger(run, range),
    );
    await forEachChunk(
      run,
      { table: 'ledger_transactions', columns: ['transaction_id'], total: run.totals.transactions },
      async (range) => settlementsNameRequests(run, range),
    );
  },
};

/** One statement over the requests, grouped by the money they ask for. */
async function moneyPaidOnce(run: CheckRun): Promise<void> {
  const { rows } = await run.db.raw<{ rows: RootRow[] }>(
    `SELECT root_outcome_id::text, min(kind) AS kind, min(order_id) AS order_id,
       trim(min(currency)) AS currency, count(*) FILTER (WHERE state = 'PAID')::text AS paid,
       count(*) FILTER (WHERE state IN ('REQUESTED', 'FAILED'))::text AS open,
       count(*)::text AS requests,
       coalesce(sum(amount_minor) FILTER (WHERE state = 'PAID'), 0)::text AS paid_amount
     FROM disbursements GROUP BY root_outcome_id
     HAVING count(*) FILTER (WHERE state = 'PAID') > 1
       OR (count(*) FILTER (WHERE state = 'PAID') > 0
           AND count(*) FILTER (WHERE state IN ('REQUESTED', 'FAILED')) > 0)
     ORDER BY root_outcome_id`,
  );
  for (const row of rows) {
    const paidTimes = `paid ${row.paid} time${row.paid === '1' ? '' : 's'}`;
    run.found({
      subject: `${row.kind.toLowerCase()} ${row.root_outcome_id} (order ${row.order_id})`,
      problem:
        `${row.requests} requests for this money, ${paidTimes} (${amountText(row.paid_amount, row.currency)} ` +
        `in all)` +
        (row.open === '0' ? '' : ` and ${row.open} still open beside the paid one`),
      refs: { rootOutcomeId: row.root_outcome_id, orderId: row.order_id },
    });
  }
}

async function requestsMatchLedger(run: CheckRun, range: Parameters<typeof inRange>[1]) {
  const chunk = inRange(['d.outcome_id'], range);
  // Per request (LATERAL): its settling event's settlement transactions naming it, by index.
  const { rows } = await run.db.raw<{ rows: RequestRow[] }>(
    `SELECT d.outcome_id::text, d.kind, d.order_id, d.party_id, trim(d.currency) AS currency, d.state,
       d.amount_minor::text AS amount, d.settlement_event_id, s.transactions::text, s.taken::text,
       s.transaction_ids
     FROM disbursements d
     CROSS JOIN LATERAL (
       SELECT count(DISTINCT t.transaction_id) AS transactions,
         -coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = ${payableKindOf}
           AND a.party_id = d.party_id), 0) AS taken,
         array_to_string(array_agg(DISTINCT t.transaction_id ORDER BY t.transaction_id), ', ')
           AS transaction_ids
       FROM ledger_transactions t
       JOIN ledger_entries e ON e.transaction_id = t.transaction_id
       JOIN accounts a ON a.account_id = e.account_id
       WHERE t.cause_event_id = d.settlement_event_id AND t.kind = ${settlementKindOf}
         AND t.memo->>'outcomeId' = d.outcome_id::text) s
     WHERE ${chunk.sql} AND CASE WHEN d.state = 'PAID'
       THEN s.transactions <> 1 OR s.taken <> d.amount_minor
       ELSE s.transactions > 0 END
     ORDER BY d.outcome_id`,
    chunk.bindings,
  );
  for (const row of rows) {
    const text = (minor: string) => amountText(minor, row.currency);
    const party = row.kind === 'PAYOUT' ? 'provider' : 'buyer';
    const settlement = row.kind === 'PAYOUT' ? 'PAYOUT_SETTLEMENT' : 'REFUND_SETTLEMENT';
    const problem =
      row.state !== 'PAID'
        ? `is ${row.state} yet event ${row.settlement_event_id ?? '?'} posted ${settlement} ` +
          `transaction ${row.transaction_ids ?? '?'} for it (${text(row.taken)} out of the payable)`
        : row.transactions === '0'
          ? `is PAID (by event ${row.settlement_event_id ?? '?'}) for ${text(row.amount)} but the ledger has ` +
            `no ${settlement} for it: the payable still holds the money`
          : `is PAID for ${text(row.amount)} but ${row.transactions} ${settlement} transaction(s) ` +
            `(${row.transaction_ids ?? '?'}) took ${text(row.taken)} from the ${party}'s payable`;
    run.found({
      subject: `${row.kind.toLowerCase()} ${row.outcome_id} (order ${row.order_id}, ${party} ${row.party_id})`,
      problem,
      refs: {
        outcomeId: row.outcome_id,
        orderId: row.order_id,
        partyId: row.party_id,
        ...(row.settlement_event_id ? { causeEventId: row.settlement_event_id } : {}),
      },
    });
  }
}

async function settlementsNameRequests(run: CheckRun, range: Parameters<typeof inRange>[1]) {
  const chunk = inRange(['t.transaction_id'], range);
  // A memo outcomeId that is not a uuid names no request (and must not fail the cast).
  const { rows } = await run.db.raw<{ rows: TransactionRow[] }>(
    `SELECT t.transaction_id::text, t.kind, t.order_id, t.cause_event_id,
       t.memo->>'outcomeId' AS named_outcome, s.currency, s.taken::text, s.into_clearing::text,
       s.party_id, d.kind AS request_kind, d.state AS request_state, d.party_id AS request_party,
       d.amount_minor::text AS request_amount, d.settlement_event_id AS request_event
     FROM ledger_transactions t
     CROSS JOIN LATERAL (
       SELECT min(e.currency) AS currency,
         -coalesce(sum(e.amount_minor) FILTER (WHERE a.kind IN ('PROVIDER_PAYABLE',
           'BUYER_REFUND_PAYABLE')), 0) AS taken,
         coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'GATEWAY_CLEARING'), 0) AS into_clearing,
         min(a.party_id) FILTER (WHERE a.kind IN ('PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE')) AS party_id
       FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id
       WHERE e.transaction_id = t.transaction_id) s
     LEFT JOIN disbursements d ON d.outcome_id = CASE
       WHEN t.memo->>'outcomeId' ~ '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'
       THEN (t.memo->>'outcomeId')::uuid END
     WHERE ${chunk.sql} AND t.kind IN ('PAYOUT_SETTLEMENT', 'REFUND_SETTLEMENT')
       AND (d.outcome_id IS NULL OR d.state <> 'PAID'
         OR ${settlementKindOf} <> t.kind
         OR d.settlement_event_id IS DISTINCT FROM t.cause_event_id
         OR d.amount_minor <> s.taken OR s.into_clearing <> s.taken
         OR d.party_id IS DISTINCT FROM s.party_id)
     ORDER BY t.transaction_id`,
    chunk.bindings,
  );
  for (const row of rows) {
    const text = (minor: string) => amountText(minor, row.currency);
    const named = row.named_outcome ?? '(none)';
    const problems: string[] = [];
    if (row.request_kind === null) {
      problems.push(`names request ${named}, which does not exist`);
    } else {
      if (`${row.request_kind}_SETTLEMENT` !== row.kind)
        problems.push(`settles ${row.request_kind} ${named} as a ${row.kind}`);
      if (row.request_state !== 'PAID')
        problems.push(`its request ${named} is ${row.request_state}`);
      if (row.request_event !== row.cause_event_id)
        problems.push(
          `caused by event ${row.cause_event_id}, but request ${named} was settled by ` +
            `${row.request_event ?? 'no event'}: a second settlement of one request`,
        );
      if (row.request_amount !== row.taken)
        problems.push(
          `took ${text(row.taken)} but the request asked for ${text(row.request_amount!)}`,
        );
      if (row.request_party !== row.party_id)
        problems.push(
          `took it from ${row.party_id ?? 'no payable'}, not from ${row.request_party ?? '?'}`,
        );
    }
    if (row.into_clearing !== row.taken)
      problems.push(
        `took ${text(row.taken)} from the payable but put ${text(row.into_clearing)} into clearing`,
      );
    run.found({
      subject: `transaction ${row.transaction_id} (${row.kind}, order ${row.order_id ?? '-'})`,
      problem: problems.join('; '),
      refs: {
        transactionId: row.transaction_id,
        ...(row.order_id ? { orderId: row.order_id } : {}),
        ...(row.named_outcome ? { outcomeId: row.named_outcome } : {}),
        causeEventId: row.cause_event_id,
      },
    });
  }
}
