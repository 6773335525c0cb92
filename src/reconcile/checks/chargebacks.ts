/**
 * Each chargeback row against its ledger transactions (src/domain/escrow/
 * chargebacks.ts): the row says where the money came from, and the CHARGEBACK
 * transaction it names must have taken exactly that — gateway clearing
 * +amount; the milestone's escrow hold −fromHeld and disputed funds
 * −fromDisputed; platform revenue −(feeReversed + fromPlatform); the
 * provider's receivable −receivable — for the payment the row names. A
 * reversed row's CHARGEBACK_REVERSAL must undo it: clearing −amount, revenue
 * +(feeReversed + fromPlatform), the receivable +what was still owed
 * (receivable − recovered), the provider's payable +recovered (paid back), and
 * fromHeld + fromDisputed back to the milestone or to the buyer's refund
 * payable. A standing row names no reversal. The ledger's side (a CHARGEBACK
 * transaction without its row) shows in gateway_clearing_matches_money_moved.
 */
import { forEachChunk, inRange } from '../scan';
import { amountText } from '../text';
import type { Check } from '../types';

const parts = ['clearing', 'escrow', 'revenue', 'receivable', 'payable', 'buyer'] as const;
type Part = (typeof parts)[number];

/** Entries of one transaction by where they went, for the chargeback's own accounts. */
const movedSql = (transaction: string) => `
  SELECT t.kind, t.memo->>'gateway' AS gateway, t.memo->>'gatewayReference' AS reference,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'GATEWAY_CLEARING'), 0) AS clearing,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind IN ('ESCROW_HOLD', 'DISPUTED_FUNDS')
      AND a.order_id = c.order_id AND a.milestone_id = c.milestone_id), 0) AS escrow,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PLATFORM_REVENUE'), 0) AS revenue,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PROVIDER_RECEIVABLE'
      AND a.party_id = c.provider_id), 0) AS receivable,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'PROVIDER_PAYABLE'
      AND a.party_id = c.provider_id), 0) AS payable,
    coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'BUYER_REFUND_PAYABLE'
      AND a.party_id = c.buyer_id), 0) AS buyer,
    coalesce(sum(abs(e.amount_minor)), 0) AS moved
  FROM ledger_transactions t
  LEFT JOIN ledger_entries e ON e.transaction_id = t.transaction_id
  LEFT JOIN accounts a ON a.account_id = e.account_id
  WHERE t.transaction_id = ${transaction}
  GROUP BY t.transaction_id`;

/** What each transaction should have moved, from the row's own figures. */
const expectedSql = `
  c.amount_minor AS want_clearing,
  -(c.from_held_minor + c.from_disputed_minor) AS want_escrow,
  -(c.fee_reversed_minor + c.from_platform_minor) AS want_revenue,
  -c.receivable_minor AS want_receivable,
  -c.amount_minor AS undo_clearing,
  c.fee_reversed_minor + c.from_platform_minor AS undo_revenue,
  c.receivable_minor - c.recovered_minor AS undo_receivable,
  c.recovered_minor AS undo_payable,
  c.from_held_minor + c.from_disputed_minor AS undo_returned`;

type Figures = Record<`applied_${Part}` | `reversal_${Part}`, string | null>;

interface ChargebackRow extends Figures {
  chargeback_id: string;
  gateway: string;
  gateway_reference: string;
  order_id: string;
  milestone_id: string | null;
  provider_id: string;
  currency: string;
  reversed: boolean;
  ledger_transaction_id: string | null;
  reversal_ledger_transaction_id: string | null;
  applied_kind: string | null;
  applied_names: boolean | null;
  reversal_kind: string | null;
  reversal_names: boolean | null;
  want_clearing: string;
  want_escrow: string;
  want_revenue: string;
  want_receivable: string;
  undo_clearing: string;
  undo_revenue: string;
  undo_receivable: string;
  undo_payable: string;
  undo_returned: string;
}

const columns = (prefix: 'applied' | 'reversal', alias: string) =>
  [
    `${alias}.kind AS ${prefix}_kind`,
    `(${alias}.gateway = c.gateway AND ${alias}.reference = c.gateway_reference) AS ${prefix}_names`,
    ...parts.map((part) => `${alias}.${part} AS ${prefix}_${part}`),
  ].join(', ');

export const chargebacksMatchLedger: Check = {
  name: 'chargebacks_match_ledger',
  invariant:
    'CONTRACT.md settlements: a chargeback takes its money where it says, a reversal undoes it',
  description:
    "each chargeback's CHARGEBACK transaction took exactly its parts (held, disputed, fee reversed, " +
    'receivable, from the platform) for the payment it names, and a reversed one has a CHARGEBACK_REVERSAL ' +
    'that undid each part (what was recovered paid back to the provider)',
  action:
    'the ledger is the source of truth: correct the chargebacks row from its transactions, or, when the ' +
    'transaction is wrong, post a reversing transaction; GET /orders/{orderId}/ledger shows both',
  async run(run) {
    const scan = {
      table: 'chargebacks',
      columns: ['chargeback_id'],
      total: run.totals.chargebacks,
    };
    await forEachChunk(run, scan, async (range) => {
      const chunk = inRange(['c.chargeback_id'], range);
      const { rows } = await run.db.raw<{ rows: ChargebackRow[] }>(
        `SELECT * FROM (
           SELECT c.chargeback_id::text, c.gateway, c.gateway_reference, c.order_id, c.milestone_id,
             c.provider_id, trim(c.currency) AS currency, c.reversed, c.ledger_transaction_id::text,
             c.reversal_ledger_transaction_id::text,
             ${columns('applied', 'applied')}, ${columns('reversal', 'reversal')},
             ${expectedSql}
           FROM chargebacks c
           LEFT JOIN LATERAL (${movedSql('c.ledger_transaction_id')}) applied ON true
           LEFT JOIN LATERAL (${movedSql('c.reversal_ledger_transaction_id')}) reversal ON true
           WHERE ${chunk.sql}) AS compared
         WHERE applied_kind IS DISTINCT FROM 'CHARGEBACK' OR NOT applied_names
           OR (applied_clearing, applied_escrow, applied_revenue, applied_receivable,
               applied_payable, applied_buyer)
             IS DISTINCT FROM (want_clearing, want_escrow, want_revenue, want_receivable, 0, 0)
           OR (reversed AND (reversal_kind IS DISTINCT FROM 'CHARGEBACK_REVERSAL' OR NOT reversal_names
             OR (reversal_clearing, reversal_revenue, reversal_receivable, reversal_payable,
                 reversal_escrow + reversal_buyer)
               IS DISTINCT FROM (undo_clearing, undo_revenue, undo_receivable, undo_payable,
                 undo_returned)))
           OR (NOT reversed AND reversal_ledger_transaction_id IS NOT NULL)
         ORDER BY chargeback_id`,
        chunk.bindings,
      );
      for (const row of rows) {
        run.found({
          subject: `chargeback ${row.gateway}/${row.gateway_reference} (order ${row.order_id}, provider ${row.provider_id})`,
          problem: chargebackProblems(row),
          refs: {
            orderId: row.order_id,
            ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
            providerId: row.provider_id,
            gateway: row.gateway,
            gatewayReference: row.gateway_reference,
            ...(row.ledger_transaction_id ? { transactionId: row.ledger_transaction_id } : {}),
          },
        });
      }
    });
  },
};

const labels: Record<Part, string> = {
  clearing: 'gateway clearing',
  escrow: 'hold and disputed funds',
  revenue: 'revenue',
  receivable: 'the receivable',
  payable: "the provider's payable",
  buyer: "the buyer's refund payable",
};

function chargebackProblems(row: ChargebackRow): string {
  const text = (minor: string | bigint) => amountText(minor, row.currency);
  const problems: string[] = [];
  const differences = (
    prefix: 'applied' | 'reversal',
    wanted: Partial<Record<Part, string | bigint>>,
  ) =>
    (Object.entries(wanted) as [Part, string | bigint][])
      .filter(([part, want]) => BigInt(row[`${prefix}_${part}`] ?? '0') !== BigInt(want))
      .map(
        ([part, want]) =>
          `${labels[part]} ${text(row[`${prefix}_${part}`] ?? '0')}, the row says ${text(want)}`,
      );
  if (row.applied_kind === null) {
    problems.push(`its transaction ${row.ledger_transaction_id ?? '(none)'} is not in the ledger`);
  } else {
    if (row.applied_kind !== 'CHARGEBACK')
      problems.push(`its transaction ${row.ledger_transaction_id!} is a ${row.applied_kind}`);
    if (!row.applied_names)
      problems.push(`its transaction ${row.ledger_transaction_id!} names another payment`);
    const wrong = differences('applied', {
      clearing: row.want_clearing,
      escrow: row.want_escrow,
      revenue: row.want_revenue,
      receivable: row.want_receivable,
      payable: 0n,
      buyer: 0n,
    });
    if (wrong.length > 0) problems.push(`the chargeback moved ${wrong.join('; ')}`);
  }
  if (!row.reversed && row.reversal_ledger_transaction_id !== null) {
    problems.push(`stands, yet names reversal transaction ${row.reversal_ledger_transaction_id}`);
  } else if (row.reversed && row.reversal_kind === null) {
    problems.push(
      `is reversed but its reversal ${row.reversal_ledger_transaction_id ?? '(none)'} is not in the ledger`,
    );
  } else if (row.reversed) {
    if (row.reversal_kind !== 'CHARGEBACK_REVERSAL' || !row.reversal_names)
      problems.push(
        `its reversal ${row.reversal_ledger_transaction_id!} is a ${row.reversal_kind!}` +
          (row.reversal_names ? '' : ' naming another payment'),
      );
    const returned = BigInt(row.reversal_escrow ?? '0') + BigInt(row.reversal_buyer ?? '0');
    const wrong = differences('reversal', {
      clearing: row.undo_clearing,
      revenue: row.undo_revenue,
      receivable: row.undo_receivable,
      payable: row.undo_payable,
    });
    if (returned !== BigInt(row.undo_returned))
      wrong.push(
        `${text(returned)} returned to the milestone and the buyer, the row says ${text(row.undo_returned)}`,
      );
    if (wrong.length > 0) problems.push(`the reversal moved ${wrong.join('; ')}`);
  }
  return problems.join('; ');
}
