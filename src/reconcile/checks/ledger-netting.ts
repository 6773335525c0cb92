/**
 * Invariant 1 of DESIGN.md: every ledger transaction nets to zero per
 * currency, and so does the whole ledger. The database refuses an unbalanced
 * transaction at commit (a deferred constraint trigger); these checks find one
 * that got past it anyway (the trigger disabled, a restore, a replica role).
 */
import { inRange, forEachChunk } from '../scan';
import { amountText } from '../text';
import type { Check } from '../types';

interface UnbalancedRow {
  transaction_id: string;
  kind: string;
  order_id: string | null;
  milestone_id: string | null;
  cause_event_id: string;
  currency: string | null;
  net: string;
  entries: string;
}

export const transactionsNetToZero: Check = {
  name: 'transactions_net_to_zero',
  invariant: 'DESIGN.md invariant 1: every ledger transaction nets to zero',
  description: 'each ledger transaction has entries, and they sum to zero in every currency',
  action:
    'post a correcting transaction (corrects_transaction_id = the one listed) that brings it to zero, ' +
    'and find how the unbalanced one got past the ledger_entries_balanced trigger',
  async run(run) {
    await forEachChunk(
      run,
      {
        table: 'ledger_transactions',
        columns: ['transaction_id'],
        total: run.totals.transactions,
      },
      async (range) => {
        const chunk = inRange(['t.transaction_id'], range);
        const entries = inRange(['e.transaction_id'], range);
        // The range on both tables keeps both scans to the chunk, by their indexes.
        // A transaction without entries shows up as one group with a null currency.
        const { rows } = await run.db.raw<{ rows: UnbalancedRow[] }>(
          `SELECT t.transaction_id::text, t.kind, t.order_id, t.milestone_id, t.cause_event_id,
                  e.currency, coalesce(sum(e.amount_minor), 0)::text AS net,
                  count(e.entry_id)::text AS entries
           FROM ledger_transactions t
           LEFT JOIN ledger_entries e ON e.transaction_id = t.transaction_id AND ${entries.sql}
           WHERE ${chunk.sql}
           GROUP BY t.transaction_id, e.currency
           HAVING coalesce(sum(e.amount_minor), 0) <> 0 OR count(e.entry_id) = 0
           ORDER BY t.transaction_id, e.currency`,
          [...entries.bindings, ...chunk.bindings],
        );
        for (const row of rows) {
          const scope = row.order_id
            ? ` (${row.kind} for ${row.order_id}/${row.milestone_id ?? '-'})`
            : ` (${row.kind})`;
          run.found({
            subject: `transaction ${row.transaction_id}${scope}`,
            problem:
              row.currency === null
                ? `has no entries (caused by event ${row.cause_event_id})`
                : `its ${row.currency} entries sum to ${amountText(row.net, row.currency)}, not zero ` +
                  `(caused by event ${row.cause_event_id})`,
            refs: {
              transactionId: row.transaction_id,
              ...(row.order_id ? { orderId: row.order_id } : {}),
              ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
              causeEventId: row.cause_event_id,
            },
          });
        }
      },
    );
  },
};

export const ledgerNetsToZero: Check = {
  name: 'ledger_nets_to_zero',
  invariant: 'DESIGN.md invariant 1: the whole ledger nets to zero',
  description: 'the sum of all ledger entries is zero in every currency',
  action:
    'the transactions listed by transactions_net_to_zero explain the difference; correct them there',
  async run(run) {
    // Summed chunk by chunk by Postgres; only one small row per currency comes back.
    const totals = new Map<string, bigint>();
    await forEachChunk(
      run,
      { table: 'ledger_entries', columns: ['entry_id'], total: run.totals.entries },
      async (range) => {
        const chunk = inRange(['entry_id'], range);
        const { rows } = await run.db.raw<{ rows: { currency: string; total: string }[] }>(
          `SELECT currency, sum(amount_minor)::text AS total FROM ledger_entries
           WHERE ${chunk.sql} GROUP BY currency`,
          chunk.bindings,
        );
        for (const row of rows) {
          totals.set(row.currency, (totals.get(row.currency) ?? 0n) + BigInt(row.total));
        }
      },
    );
    for (const [currency, total] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
      if (total === 0n) continue;
      run.found({
        subject: `ledger ${currency}`,
        problem: `all ${currency} entries sum to ${amountText(total, currency)}, not zero`,
        refs: { currency },
      });
    }
  },
};
