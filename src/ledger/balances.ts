/**
 * Balances, answered from the ledger itself: per account (the running balance
 * where one is kept, else the sum of its entries), and per milestone and per
 * order (every account the milestone's or order's transactions touched, with
 * what those transactions moved through it).
 */
import type { Knex } from 'knex';

export interface AccountBalance {
  code: string;
  kind: string;
  currency: string;
  balanceMinor: bigint;
}

export async function accountBalance(db: Knex, code: string): Promise<AccountBalance | undefined> {
  const row = await db('accounts as a')
    .where('a.code', code)
    .select('a.code', 'a.kind', 'a.currency', 'a.maintains_balance', 'a.balance_minor')
    .select(
      db.raw(
        '(SELECT coalesce(sum(e.amount_minor), 0) FROM ledger_entries e WHERE e.account_id = a.account_id) AS summed',
      ),
    )
    .first<
      | {
          code: string;
          kind: string;
          currency: string;
          maintains_balance: boolean;
          balance_minor: string;
          summed: string;
        }
      | undefined
    >();
  if (!row) return undefined;
  return {
    code: row.code,
    kind: row.kind,
    currency: row.currency,
    balanceMinor: BigInt(row.maintains_balance ? row.balance_minor : row.summed),
  };
}

/** What the transactions of one milestone (or a whole order) moved, per account. */
export async function movementsByAccount(
  db: Knex,
  scope: { orderId: string; milestoneId?: string },
): Promise<AccountBalance[]> {
  const query = db('ledger_entries as e')
    .join('ledger_transactions as t', 't.transaction_id', 'e.transaction_id')
    .join('accounts as a', 'a.account_id', 'e.account_id')
    .where('t.order_id', scope.orderId)
    .groupBy('a.code', 'a.kind', 'a.currency')
    .orderBy('a.code')
    .select('a.code', 'a.kind', 'a.currency')
    .sum({ total: 'e.amount_minor' });
  if (scope.milestoneId !== undefined) query.where('t.milestone_id', scope.milestoneId);
  const rows = (await query) as { code: string; kind: string; currency: string; total: string }[];
  return rows.map((row) => ({
    code: row.code,
    kind: row.kind,
    currency: row.currency,
    balanceMinor: BigInt(row.total),
  }));
}
