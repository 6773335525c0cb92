/**
 * Invariant 2 against the ledger: a milestone row's totals are a projection of
 * the ledger, so each must equal what the ledger says.
 *
 * How each total shows in the ledger (src/domain/escrow):
 *   held      = balance of its ESCROW_HOLD account       (sum of the account's entries)
 *   disputed  = balance of its DISPUTED_FUNDS account
 *   funded    = what FUNDING transactions put into those two accounts, less what
 *               CHARGEBACK transactions took back out of them, plus what a
 *               CHARGEBACK_REVERSAL returned to them (a chargeback of held or
 *               disputed money leaves the milestone needing funding again)
 *   released  = gross credited by RELEASE and DISPUTE_RESOLUTION transactions:
 *               PROVIDER_PAYABLE (what is paid) + PROVIDER_RECEIVABLE (what netted
 *               a receivable first) + PLATFORM_REVENUE (fee)
 *   fees      = the PLATFORM_REVENUE part of those
 *   refunded  = BUYER_REFUND_PAYABLE credited by REFUND and DISPUTE_RESOLUTION
 * Overpayment and currency-mismatch refunds never entered the milestone, so
 * they are not part of its totals; nor is a chargeback of money already
 * released (the milestone released it; the provider owes it back) or the part
 * of a reversal paid to the buyer or back to the provider. Balances are read by account (code), flows
 * by the transaction's milestone, so money posted to the wrong milestone's
 * account shows on both milestones.
 */
import { accountCode, accounts } from '../../domain/escrow';
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check } from '../types';

const fields = ['funded', 'held', 'disputed', 'released', 'fees', 'refunded'] as const;
type Field = (typeof fields)[number];

type ComparedRow = { order_id: string; milestone_id: string; currency: string } & Record<
  Field | `ledger_${Field}`,
  string
>;

export const milestoneMatchesLedger: Check = {
  name: 'milestone_matches_ledger',
  invariant: 'DESIGN.md invariant 2: milestone totals are a projection of the ledger',
  description:
    "each milestone's funded, held, disputed, released, fees and refunded equal what its ledger accounts " +
    'and transactions say (released = fees + net paid to the provider)',
  action:
    'the ledger is the source of truth: find the event that changed the row without its ledger movement ' +
    '(or the reverse) and correct the row, or post the missing correcting transaction',
  async run(run) {
    const scan = {
      table: 'milestones',
      columns: ['order_id', 'milestone_id'],
      total: run.totals.milestones,
    };
    await forEachChunk(run, scan, async (range) => {
      const keyRange = inRange(['order_id', 'milestone_id'], range);
      const keys = await run.db.raw<{
        rows: { order_id: string; milestone_id: string; currency: string }[];
      }>(
        `SELECT order_id, milestone_id, currency FROM milestones WHERE ${keyRange.sql}`,
        keyRange.bindings,
      );
      if (keys.rows.length === 0) return;
      const chunk = inRange(['m.order_id', 'm.milestone_id'], range);
      // Account codes are built by the domain's own accountCode (percent-encoded ids).
      const code = (kind: 'escrowHold' | 'disputedFunds') =>
        keys.rows.map((m) => accountCode(accounts[kind](m.currency, m.order_id, m.milestone_id)));
      const { rows } = await run.db.raw<{ rows: ComparedRow[] }>(
        `WITH checked AS (
           SELECT m.*, k.hold_code, k.disputed_code
           FROM milestones m
           JOIN unnest(?::text[], ?::text[], ?::text[], ?::text[])
             AS k(order_id, milestone_id, hold_code, disputed_code)
             ON k.order_id = m.order_id AND k.milestone_id = m.milestone_id
           WHERE ${chunk.sql}
         ), compared AS (
           SELECT checked.order_id, checked.milestone_id, checked.currency,
             checked.funded_minor AS funded, checked.held_minor AS held, checked.disputed_minor AS disputed,
             checked.released_minor AS released, checked.fees_minor AS fees, checked.refunded_minor AS refunded,
             f.funded AS ledger_funded, b.held AS ledger_held, b.disputed AS ledger_disputed,
             f.released AS ledger_released, f.fees AS ledger_fees, f.refunded AS ledger_refunded
           FROM checked
           -- Per milestone (LATERAL): index lookups only, however large the ledger.
           CROSS JOIN LATERAL (
             SELECT
               coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('FUNDING', 'CHARGEBACK',
                 'CHARGEBACK_REVERSAL') AND a.kind IN ('ESCROW_HOLD', 'DISPUTED_FUNDS')), 0) AS funded,
               coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')
                 AND a.kind IN ('PROVIDER_PAYABLE', 'PROVIDER_RECEIVABLE', 'PLATFORM_REVENUE')), 0)
                 AS released,
               coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')
                 AND a.kind = 'PLATFORM_REVENUE'), 0) AS fees,
               coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('REFUND', 'DISPUTE_RESOLUTION')
                 AND a.kind = 'BUYER_REFUND_PAYABLE'), 0) AS refunded
             FROM ledger_transactions t
             JOIN ledger_entries e ON e.transaction_id = t.transaction_id
             JOIN accounts a ON a.account_id = e.account_id
             WHERE t.order_id = checked.order_id AND t.milestone_id = checked.milestone_id) f
           CROSS JOIN LATERAL (
             SELECT coalesce(sum(e.amount_minor) FILTER (WHERE a.code = checked.hold_code), 0) AS held,
               coalesce(sum(e.amount_minor) FILTER (WHERE a.code = checked.disputed_code), 0) AS disputed
             FROM accounts a JOIN ledger_entries e ON e.account_id = a.account_id
             WHERE a.code IN (checked.hold_code, checked.disputed_code)) b
         )
         SELECT order_id, milestone_id, currency,
           ${fields.map((f) => `${f}::text, ledger_${f}::text`).join(', ')}
         FROM compared
         WHERE (${fields.join(', ')}) IS DISTINCT FROM (${fields.map((f) => `ledger_${f}`).join(', ')})
         ORDER BY order_id, milestone_id`,
        [
          keys.rows.map((m) => m.order_id),
          keys.rows.map((m) => m.milestone_id),
          code('escrowHold'),
          code('disputedFunds'),
          ...chunk.bindings,
        ],
      );
      for (const row of rows) {
        const text = (minor: string) => amountText(minor, row.currency);
        const differences = fields
          .filter((field) => BigInt(row[field]) !== BigInt(row[`ledger_${field}`]))
          .map(
            (field) =>
              `${field} ${text(row[field])} but the ledger says ${text(row[`ledger_${field}`])}`,
          );
        run.found({
          subject: `milestone ${row.order_id}/${row.milestone_id}`,
          problem: differences.join('; '),
          refs: { orderId: row.order_id, milestoneId: row.milestone_id },
        });
      }
    });
  },
};
