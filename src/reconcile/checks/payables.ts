/**
 * Invariant 4 of DESIGN.md with settlements: money is held, disputed,
 * payable, in payout, paid out, refunded, receivable or revenue — never
 * nowhere. What is payable is owed to someone who has been asked for: every
 * credit to a provider payable or a buyer refund payable comes with its
 * PAYOUT_REQUESTED / REFUND_REQUESTED (a disbursements row for that amount),
 * and only its PAYOUT_SETTLEMENT / REFUND_SETTLEMENT takes it out. So each
 * payable account holds exactly what its party's open requests ask for: the
 * requests in payout (REQUESTED) and the failed ones waiting to be asked again
 * (FAILED); a RETRIED request was replaced by its retry, a PAID one left.
 * Payable money without a request reaches no one; a request beyond the
 * payable would be paid with money that is not there.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, Discrepancy } from '../types';

interface PayableRow {
  code: string | null;
  kind: 'PROVIDER_PAYABLE' | 'BUYER_REFUND_PAYABLE';
  party_id: string;
  currency: string;
  holds: string;
  in_payout: string;
  failed: string;
  requests: string;
}

const requestKind = `CASE a.kind WHEN 'PROVIDER_PAYABLE' THEN 'PAYOUT' ELSE 'REFUND' END`;

function payableDiscrepancy(row: PayableRow): Discrepancy {
  const text = (minor: string | bigint) => amountText(minor, row.currency);
  const asked = BigInt(row.in_payout) + BigInt(row.failed);
  const holds = BigInt(row.holds);
  const provider = row.kind === 'PROVIDER_PAYABLE';
  const kind = provider ? 'payout' : 'refund';
  const gap = holds - asked;
  return {
    subject: `${provider ? 'provider' : 'buyer'} ${row.party_id} (${provider ? 'payable' : 'refund payable'} ${row.currency})`,
    problem:
      `${row.code ? `account ${row.code} holds` : 'no payable account, so it holds'} ${text(holds)} but its ` +
      `${row.requests} open ${kind} request(s) ask for ${text(asked)} (${text(row.in_payout)} in payout, ` +
      `${text(row.failed)} failed): ` +
      (gap > 0n
        ? `${text(gap)} is payable and asked of no one`
        : `${text(-gap)} is asked for beyond what is payable`),
    refs: {
      partyId: row.party_id,
      currency: row.currency,
      ...(row.code ? { accountCode: row.code } : {}),
    },
  };
}

export const payablesMatchOpenRequests: Check = {
  name: 'payables_match_open_requests',
  invariant:
    'DESIGN.md invariant 4: money is never nowhere; what is payable is in payout or failed and to be asked again',
  description:
    'each provider payable and buyer refund payable holds exactly what its open payout or refund requests ' +
    '(requested and unsettled, or failed and not retried) ask for',
  action:
    'payable money without a request was credited without its PAYOUT_REQUESTED / REFUND_REQUESTED (or the ' +
    "request row was lost): find the transaction in the account's entries and publish the request; a request " +
    'beyond the payable must not be paid: mark it failed with the payout service and correct the ledger',
  async run(run) {
    const scan = { table: 'accounts', columns: ['account_id'], total: run.totals.accounts };
    await forEachChunk(run, scan, async (range) => {
      const chunk = inRange(['a.account_id'], range);
      // Per payable (LATERAL): its entries and its party's open requests, by index.
      const { rows } = await run.db.raw<{ rows: PayableRow[] }>(
        `SELECT code, kind, party_id, currency, holds::text, in_payout::text, failed::text,
           requests::text
         FROM (
           SELECT a.code, a.kind, a.party_id, trim(a.currency) AS currency, s.holds, r.in_payout,
             r.failed, r.requests
           FROM accounts a
           CROSS JOIN LATERAL (SELECT coalesce(sum(e.amount_minor), 0) AS holds
             FROM ledger_entries e WHERE e.account_id = a.account_id) s
           CROSS JOIN LATERAL (
             SELECT coalesce(sum(d.amount_minor) FILTER (WHERE d.state = 'REQUESTED'), 0) AS in_payout,
               coalesce(sum(d.amount_minor) FILTER (WHERE d.state = 'FAILED'), 0) AS failed,
               count(*) FILTER (WHERE d.state IN ('REQUESTED', 'FAILED')) AS requests
             FROM disbursements d
             WHERE d.party_id = a.party_id AND d.currency = a.currency AND d.kind = ${requestKind}) r
           WHERE ${chunk.sql} AND a.kind IN ('PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE')) AS payable
         WHERE holds <> in_payout + failed
         ORDER BY code`,
        chunk.bindings,
      );
      for (const row of rows) run.found(payableDiscrepancy(row));
    });
    // Open requests of a party that has no payable account at all.
    const { rows } = await run.db.raw<{ rows: PayableRow[] }>(
      `SELECT NULL AS code,
         CASE d.kind WHEN 'PAYOUT' THEN 'PROVIDER_PAYABLE' ELSE 'BUYER_REFUND_PAYABLE' END AS kind,
         d.party_id, trim(d.currency) AS currency, '0' AS holds,
         coalesce(sum(d.amount_minor) FILTER (WHERE d.state = 'REQUESTED'), 0)::text AS in_payout,
         coalesce(sum(d.amount_minor) FILTER (WHERE d.state = 'FAILED'), 0)::text AS failed,
         count(*)::text AS requests
       FROM disbursements d
       WHERE d.state IN ('REQUESTED', 'FAILED') AND NOT EXISTS (SELECT 1 FROM accounts a
         WHERE a.kind = CASE d.kind WHEN 'PAYOUT' THEN 'PROVIDER_PAYABLE' ELSE 'BUYER_REFUND_PAYABLE' END
           AND a.party_id = d.party_id AND a.currency = d.currency)
       GROUP BY d.kind, d.party_id, d.currency
       ORDER BY d.party_id, d.currency`,
    );
    for (const row of rows) run.found(payableDiscrepancy(row));
  },
};
