/**
 * Invariant 2's second half, per release: released (gross) = fee + net paid to
 * the provider. Every RELEASE, and every DISPUTE_RESOLUTION that gave the
 * provider something, has one `releases` row (the read model volume-tiered
 * fees are computed from) whose gross and fee must be what the ledger credited:
 * gross = PROVIDER_PAYABLE + PROVIDER_RECEIVABLE + PLATFORM_REVENUE (a release
 * to a provider who owes a chargeback credits the receivable first, and pays
 * only the rest), fee = PLATFORM_REVENUE. A row that disagrees makes later
 * fees wrong for that provider.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check } from '../types';

interface ReleaseRow {
  transaction_id: string;
  kind: string;
  order_id: string | null;
  milestone_id: string | null;
  currency: string;
  recorded_gross: string | null;
  recorded_fee: string | null;
  ledger_net: string;
  ledger_recovered: string;
  ledger_fee: string;
}

export const releasesMatchLedger: Check = {
  name: 'releases_match_ledger',
  invariant:
    'DESIGN.md invariant 2: released (gross) = fees + net paid to the provider (a receivable netted first)',
  description:
    'each release in the ledger has its releases row (the fee read model) with the same gross and fee, ' +
    'and no releases row lacks its ledger release',
  action:
    'correct the releases row from the ledger transaction (the ledger is the source of truth); ' +
    'volume-tiered fees of that provider since then may need review',
  async run(run) {
    const scan = {
      table: 'ledger_transactions',
      columns: ['transaction_id'],
      total: run.totals.transactions,
    };
    await forEachChunk(run, scan, async (range) => {
      const inTransactions = inRange(['t.transaction_id'], range);
      const inReleases = inRange(['r.transaction_id'], range);
      // Every table is read through the chunk's range (Postgres would otherwise
      // hash a whole table per chunk); each candidate's credits by an index lookup.
      const { rows } = await run.db.raw<{ rows: ReleaseRow[] }>(
        `WITH candidates AS (
           SELECT t.transaction_id FROM ledger_transactions t
           WHERE ${inTransactions.sql} AND t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')
           UNION
           SELECT r.transaction_id FROM releases r WHERE ${inReleases.sql}
         )
         SELECT t.transaction_id::text, t.kind, t.order_id, t.milestone_id,
           coalesce(r.currency, s.currency) AS currency,
           r.gross_minor::text AS recorded_gross, r.fee_minor::text AS recorded_fee,
           s.net::text AS ledger_net, s.recovered::text AS ledger_recovered, s.fee::text AS ledger_fee
         FROM candidates c
         JOIN ledger_transactions t ON t.transaction_id = c.transaction_id
         LEFT JOIN releases r ON r.transaction_id = c.transaction_id AND ${inReleases.sql}
         CROSS JOIN LATERAL (
           SELECT min(e.currency) AS currency,
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PROVIDER_PAYABLE'), 0) AS net,
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PROVIDER_RECEIVABLE'), 0) AS recovered,
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PLATFORM_REVENUE'), 0) AS fee
           FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id
           WHERE e.transaction_id = c.transaction_id) s
         -- A DISPUTE_RESOLUTION that gave the provider nothing credits no gross and has no row.
         WHERE (r.transaction_id IS NULL AND s.net + s.recovered + s.fee <> 0)
            OR (r.transaction_id IS NOT NULL
                AND (r.gross_minor <> s.net + s.recovered + s.fee OR r.fee_minor <> s.fee))
         ORDER BY t.transaction_id`,
        [...inTransactions.bindings, ...inReleases.bindings, ...inReleases.bindings],
      );
      for (const row of rows) {
        const text = (minor: string | bigint) => amountText(minor, row.currency);
        const ledgerGross =
          BigInt(row.ledger_net) + BigInt(row.ledger_recovered) + BigInt(row.ledger_fee);
        const recovered =
          BigInt(row.ledger_recovered) === 0n
            ? ''
            : ` + recovered ${text(row.ledger_recovered)} of a receivable`;
        const credited = `the ledger credited ${text(ledgerGross)} (net ${text(row.ledger_net)}${recovered} + fee ${text(row.ledger_fee)})`;
        run.found({
          subject: `transaction ${row.transaction_id} (${row.kind} for ${row.order_id ?? '-'}/${row.milestone_id ?? '-'})`,
          problem:
            row.recorded_gross === null
              ? `${credited} but it has no releases row`
              : `the releases row says gross ${text(row.recorded_gross)}, fee ${text(row.recorded_fee ?? '0')}; ${credited}`,
          refs: {
            transactionId: row.transaction_id,
            ...(row.order_id ? { orderId: row.order_id } : {}),
            ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
          },
        });
      }
    });
  },
};
