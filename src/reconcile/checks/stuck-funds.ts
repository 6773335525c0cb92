/**
 * Stuck funds: a milestone holding money (escrow hold or disputed funds) for
 * longer than the threshold, counted from its first FUNDING transaction (when
 * its escrow first received money). Every milestone holding funds is also
 * reported by age bucket, with what it holds per currency, so the report shows
 * how old the money in escrow is, not only what is past the threshold.
 */
import { forEachChunk, inRange, type KeyRange } from '../scan';
import { amountText, durationText } from '../text';
import type { Check, CheckRun, Discrepancy } from '../types';
import { AgeTally, ageBoundaries, bucketIndexSql } from './ages';

/**
 * Every milestone of the chunk holding funds, aged from its first funding
 * (updated_at if the ledger has none), with its age bucket (the number of
 * boundaries its age has passed); the details only for those past the threshold.
 */
function holdingSql(run: CheckRun, range: KeyRange, boundaries: readonly number[]) {
  const chunk = inRange(['m.order_id', 'm.milestone_id'], range);
  return {
    sql: `WITH holding AS MATERIALIZED (
        SELECT m.order_id, m.milestone_id, m.currency, m.state, m.held_minor, m.disputed_minor,
          m.dispute_id, m.updated_at,
          coalesce((SELECT min(t.created_at) FROM ledger_transactions t
            WHERE t.order_id = m.order_id AND t.milestone_id = m.milestone_id AND t.kind = 'FUNDING'),
            m.updated_at) AS since
        FROM milestones m
        WHERE ${chunk.sql} AND (m.held_minor > 0 OR m.disputed_minor > 0)
      ), aged AS (
        SELECT *, floor(extract(epoch FROM (?::timestamptz - since)) * 1000)::bigint AS age_ms FROM holding
      )
      SELECT ${bucketIndexSql('aged.age_ms')} AS bucket,
        currency, (held_minor + disputed_minor)::text AS holds, age_ms >= ? AS stuck,
        order_id, milestone_id, state, held_minor::text AS held, disputed_minor::text AS disputed,
        dispute_id, since, updated_at, age_ms::text
      FROM aged ORDER BY order_id, milestone_id`,
    bindings: [
      ...chunk.bindings,
      run.options.now.toISOString(),
      boundaries.map(String),
      String(run.options.stuckFundsAfterMs),
    ],
  };
}

interface HoldingRow {
  bucket: number;
  currency: string;
  holds: string;
  stuck: boolean;
  order_id: string;
  milestone_id: string;
  state: string;
  held: string;
  disputed: string;
  dispute_id: string | null;
  since: Date;
  updated_at: Date;
  age_ms: string;
}

const nextStep: Record<string, string> = {
  DISPUTED: 'chase the dispute desk for a resolution or withdrawal',
  AWAITING_RELEASE:
    'reached and waiting: check the inspection timer is running and whether a FINAL top-up is awaited',
  FUNDED:
    'funded but never reached: ask the marketplace whether the work was delivered or should be cancelled',
  PARTIALLY_FUNDED: 'waiting for the rest of its funding: ask the buyer, or cancel and refund',
};

export const stuckFunds: Check = {
  name: 'stuck_funds',
  invariant: 'DESIGN.md: escrow is temporary; funds held longer than the threshold need a decision',
  description:
    'milestones holding funds (escrow hold or disputed) since their first funding longer than the ' +
    'stuck-funds threshold; every milestone holding funds is also counted by age bucket',
  action:
    'decide each: release, refund or cancel through the usual events; see the step for its state',
  async run(run) {
    const boundaries = ageBoundaries(run.options.stuckFundsAfterMs);
    const tally = new AgeTally();
    const scan = {
      table: 'milestones',
      columns: ['order_id', 'milestone_id'],
      total: run.totals.milestones,
    };
    await forEachChunk(run, scan, async (range) => {
      const holding = holdingSql(run, range, boundaries);
      const { rows } = await run.db.raw<{ rows: HoldingRow[] }>(holding.sql, holding.bindings);
      for (const row of rows) {
        tally.add(row.bucket, row.currency, BigInt(row.holds));
        if (row.stuck) run.found(stuckDiscrepancy(row));
      }
    });
    run.setAgeBuckets(
      tally.byAge(boundaries).map(({ count, ...bucket }) => ({ ...bucket, milestones: count })),
    );
  },
};

function stuckDiscrepancy(row: HoldingRow): Discrepancy {
  const text = (minor: string) => amountText(minor, row.currency);
  const funds = [
    BigInt(row.held) > 0n ? `${text(row.held)} in escrow hold` : '',
    BigInt(row.disputed) > 0n
      ? `${text(row.disputed)} disputed (${row.dispute_id ?? 'no dispute id'})`
      : '',
  ].filter(Boolean);
  return {
    subject: `milestone ${row.order_id}/${row.milestone_id}`,
    problem:
      `${row.state}, holds ${funds.join(' and ')} for ${durationText(Number(row.age_ms))} ` +
      `(first funded ${row.since.toISOString()}, last changed ${row.updated_at.toISOString()})`,
    ...(nextStep[row.state] ? { action: nextStep[row.state] } : {}),
    refs: { orderId: row.order_id, milestoneId: row.milestone_id },
  };
}
