/**
 * Rules a milestone row must satisfy on its own: invariant 2's conservation
 * (the table has CHECKs for it; they can be dropped or bypassed by a restore),
 * and the state its totals put it in. The state rules are the escrow domain's
 * own (src/domain/escrow/milestone.ts derivedState, and the rules that close,
 * freeze and release a milestone), written here as SQL so the scan stays in
 * Postgres; nothing is added that the domain does not hold.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';

const milestoneScan = (run: CheckRun) => ({
  table: 'milestones',
  columns: ['order_id', 'milestone_id'],
  total: run.totals.milestones,
});

interface TotalsRow {
  order_id: string;
  milestone_id: string;
  currency: string;
  funded: string;
  held: string;
  disputed: string;
  released: string;
  fees: string;
  refunded: string;
  amount: string;
}

const totalsColumns = `m.order_id, m.milestone_id, m.currency, m.funded_minor::text AS funded,
  m.held_minor::text AS held, m.disputed_minor::text AS disputed, m.released_minor::text AS released,
  m.fees_minor::text AS fees, m.refunded_minor::text AS refunded, m.amount_minor::text AS amount`;

const subjectOf = (row: { order_id: string; milestone_id: string }) => ({
  subject: `milestone ${row.order_id}/${row.milestone_id}`,
  refs: { orderId: row.order_id, milestoneId: row.milestone_id },
});

export const milestoneConservation: Check = {
  name: 'milestone_conservation',
  invariant:
    'DESIGN.md invariant 2: funded = held + disputed + released + refunded; fees ≤ released',
  description: "each milestone row's own totals conserve what was funded, and no total is negative",
  action:
    'compare the row with the ledger (milestone_matches_ledger says which total is wrong) and correct the row ' +
    'from the ledger; check that the milestones CHECK constraints are still in place',
  async run(run) {
    await forEachChunk(run, milestoneScan(run), async (range) => {
      const chunk = inRange(['m.order_id', 'm.milestone_id'], range);
      const { rows } = await run.db.raw<{ rows: TotalsRow[] }>(
        `SELECT ${totalsColumns} FROM milestones m
         WHERE ${chunk.sql} AND (
           m.funded_minor <> m.held_minor + m.disputed_minor + m.released_minor + m.refunded_minor
           OR m.fees_minor > m.released_minor
           OR least(m.funded_minor, m.held_minor, m.disputed_minor, m.released_minor,
                    m.fees_minor, m.refunded_minor, m.amount_minor) < 0)
         ORDER BY m.order_id, m.milestone_id`,
        chunk.bindings,
      );
      for (const row of rows) {
        const text = (minor: string | bigint) => amountText(minor, row.currency);
        const parts =
          BigInt(row.held) + BigInt(row.disputed) + BigInt(row.released) + BigInt(row.refunded);
        const problems: string[] = [];
        if (parts !== BigInt(row.funded)) {
          problems.push(
            `funded ${text(row.funded)} ≠ held ${text(row.held)} + disputed ${text(row.disputed)} + ` +
              `released ${text(row.released)} + refunded ${text(row.refunded)} = ${text(parts)}`,
          );
        }
        if (BigInt(row.fees) > BigInt(row.released)) {
          problems.push(`fees ${text(row.fees)} exceed released ${text(row.released)}`);
        }
        const negative = (
          ['funded', 'held', 'disputed', 'released', 'fees', 'refunded', 'amount'] as const
        )
          .filter((field) => BigInt(row[field]) < 0n)
          .map((field) => `${field} is ${text(row[field])}`);
        problems.push(...negative);
        run.found({ ...subjectOf(row), problem: problems.join('; ') });
      }
    });
  },
};

interface StateRow extends TotalsRow {
  state: string;
  expected: string;
  order_state: string;
  dispute_id: string | null;
  wrong_state: boolean;
  closed_with_funds: boolean;
  released_nothing: boolean;
  disputed_without_dispute: boolean;
  held_during_dispute: boolean;
  holds_more_than_worth: boolean;
  open_in_cancelled_order: boolean;
}

// derivedState of src/domain/escrow/milestone.ts, for a non-terminal milestone.
const expectedState = `CASE
  WHEN m.state IN ('RELEASED', 'REFUNDED', 'CANCELLED') THEN m.state
  WHEN m.dispute_id IS NOT NULL THEN 'DISPUTED'
  WHEN m.reached AND m.held_minor > 0 THEN 'AWAITING_RELEASE'
  WHEN m.held_minor = 0 THEN 'PENDING_FUNDING'
  WHEN m.held_minor + m.disputed_minor + m.released_minor >= m.amount_minor THEN 'FUNDED'
  ELSE 'PARTIALLY_FUNDED' END`;

export const milestoneState: Check = {
  name: 'milestone_state',
  invariant: 'CONTRACT.md milestone states, as the escrow domain derives them from the totals',
  description:
    'each milestone is in the state its totals put it in; closed milestones hold nothing; only a disputed ' +
    'milestone has disputed funds; none holds more than it is worth; a cancelled order has no open milestone',
  action:
    'read the milestone with its ledger (GET /orders/{orderId}/ledger) and the events that changed it; ' +
    'correct the row so that its state follows from its totals',
  async run(run) {
    await forEachChunk(run, milestoneScan(run), async (range) => {
      const chunk = inRange(['m.order_id', 'm.milestone_id'], range);
      const { rows } = await run.db.raw<{ rows: StateRow[] }>(
        `SELECT * FROM (
           SELECT ${totalsColumns}, m.state, ${expectedState} AS expected, o.state AS order_state,
             m.dispute_id,
             m.state <> ${expectedState} AS wrong_state,
             m.state IN ('RELEASED', 'REFUNDED', 'CANCELLED')
               AND (m.held_minor <> 0 OR m.disputed_minor <> 0 OR m.dispute_id IS NOT NULL) AS closed_with_funds,
             m.state = 'RELEASED' AND m.released_minor = 0 AS released_nothing,
             m.dispute_id IS NULL AND m.disputed_minor <> 0 AS disputed_without_dispute,
             m.dispute_id IS NOT NULL AND m.held_minor <> 0 AS held_during_dispute,
             -- Before its reach a milestone may hold FINAL top-ups beyond its amount (they
             -- wait for the final amount, src/domain/escrow/funding.ts); never more than those.
             m.dispute_id IS NULL AND m.held_minor > m.amount_minor + CASE WHEN m.reached THEN 0 ELSE
               (SELECT coalesce(sum(p.applied_minor), 0) FROM payments p
                WHERE p.order_id = m.order_id AND p.milestone_id = m.milestone_id AND p.kind = 'FINAL')
             END AS holds_more_than_worth,
             o.state = 'CANCELLED'
               AND m.state NOT IN ('RELEASED', 'REFUNDED', 'CANCELLED', 'DISPUTED') AS open_in_cancelled_order
           FROM milestones m
           -- LIMIT keeps this a lookup per milestone, not a join Postgres may answer by
           -- scanning every order once per chunk.
           LEFT JOIN LATERAL (SELECT o.state FROM orders o WHERE o.order_id = m.order_id LIMIT 1) o ON true
           WHERE ${chunk.sql}) AS checked
         WHERE wrong_state OR closed_with_funds OR released_nothing OR disputed_without_dispute
           OR held_during_dispute OR holds_more_than_worth OR open_in_cancelled_order
         ORDER BY order_id, milestone_id`,
        chunk.bindings,
      );
      for (const row of rows) run.found({ ...subjectOf(row), problem: stateProblems(row) });
    });
  },
};

function stateProblems(row: StateRow): string {
  const text = (minor: string) => amountText(minor, row.currency);
  const problems: string[] = [];
  if (row.wrong_state) {
    problems.push(
      `is ${row.state} but its totals make it ${row.expected} (held ${text(row.held)}, disputed ` +
        `${text(row.disputed)}, released ${text(row.released)}, amount ${text(row.amount)})`,
    );
  }
  if (row.closed_with_funds) {
    problems.push(
      `is ${row.state} yet holds ${text(row.held)} and ${text(row.disputed)} disputed` +
        (row.dispute_id ? ` under dispute ${row.dispute_id}` : ''),
    );
  }
  if (row.released_nothing) problems.push('is RELEASED but released nothing');
  if (row.disputed_without_dispute) {
    problems.push(`has ${text(row.disputed)} disputed without an open dispute`);
  }
  if (row.held_during_dispute) {
    problems.push(
      `holds ${text(row.held)} in escrow during dispute ${row.dispute_id}; disputed funds are frozen apart`,
    );
  }
  if (row.holds_more_than_worth) {
    problems.push(`holds ${text(row.held)}, more than its amount ${text(row.amount)}`);
  }
  if (row.open_in_cancelled_order) problems.push(`is ${row.state} in a cancelled order`);
  return problems.join('; ');
}
