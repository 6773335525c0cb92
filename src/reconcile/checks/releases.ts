/**
 * Invariant 2's second half, per release: released (gross) = fee + net paid to
 * the provider. Every RELEASE, and every DISPUTE_RESOLUTION that gave the
 * provider something, has one `releases` row (the read model volume-tiered
 * fees are computed from) whose gross and fee must be what the ledger credited:
 * gross = PROVIDER_PAYABLE + PLATFORM_REVENUE, fee = PLATFORM_REVENUE. A row
 * that disagrees makes later fees wrong for that provider.
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
  ledger_fee: string;
}

export const releasesMatchLedger: Check = {
  name: 'releases_match_ledger',
  invariant: 'DESIGN.md invariant 2: released (gross) = fees + net paid to the provider',
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
      const chunk = inRange(['t.transaction_id'], range);
      const { rows } = await run.db.raw<{ rows: ReleaseRow[] }>(
        `SELECT transaction_id::text, kind, order_id, milestone_id, currency,
           recorded_gross::text, recorded_fee::text, ledger_net::text, ledger_fee::text
         FROM (
           SELECT t.transaction_id, t.kind, t.order_id, t.milestone_id,
             coalesce(r.currency, min(e.currency)) AS currency,
             r.gross_minor AS recorded_gross, r.fee_minor AS recorded_fee,
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PROVIDER_PAYABLE'), 0) AS ledger_net,
             coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PLATFORM_REVENUE'), 0) AS ledger_fee
           FROM ledger_transactions t
           LEFT JOIN releases r ON r.transaction_id = t.transaction_id
           LEFT JOIN ledger_entries e ON e.transaction_id = t.transaction_id
           LEFT JOIN accounts a ON a.account_id = e.account_id
           WHERE ${chunk.sql} AND (t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION') OR r.transaction_id IS NOT NULL)
           GROUP BY t.transaction_id, r.transaction_id) AS release
         -- A DISPUTE_RESOLUTION that gave the provider nothing credits no gross and has no row.
         WHERE (recorded_gross IS NULL AND ledger_net + ledger_fee <> 0)
            OR (recorded_gross IS NOT NULL
                AND (recorded_gross <> ledger_net + ledger_fee OR recorded_fee <> ledger_fee))
         ORDER BY release.transaction_id`,
        chunk.bindings,
      );
      for (const row of rows) {
        const text = (minor: string | bigint) => amountText(minor, row.currency);
        const ledgerGross = BigInt(row.ledger_net) + BigInt(row.ledger_fee);
        const credited = `the ledger credited ${text(ledgerGross)} (net ${text(row.ledger_net)} + fee ${text(row.ledger_fee)})`;
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
