/**
 * Account balances (DESIGN.md, "The ledger"): escrow hold, disputed funds and
 * the payables never go negative, neither by the running balance the account
 * row keeps nor by the sum of its entries (nor at any entry, by the balance it
 * recorded); a provider receivable, which is owed to the platform and so runs
 * at or below zero, never goes above zero (more recovered than was charged
 * back); the running balance, version and the last entry's balance agree
 * with the entries; and no escrow money sits in an account whose milestone
 * does not exist (invariant 4: money is never nowhere). Gateway clearing
 * mirrors everything (negative by design) and platform revenue keeps no
 * running balance, so neither has a floor here.
 */
import { forEachChunk, inRange, type KeyRange } from '../scan';
import { amountText } from '../text';
import type { Check, CheckRun } from '../types';

interface AccountRow {
  account_id: string;
  code: string;
  kind: string;
  currency: string;
  order_id: string | null;
  milestone_id: string | null;
  balance: string;
  version: string;
  summed: string;
  entries: string;
  lowest_after: string | null;
  highest_after: string | null;
  without_after: string;
  last_after: string | null;
  last_version: string | null;
}

/** One chunk of accounts of the given kinds, with what their entries say, filtered by `where`. */
async function accountsWhere(
  run: CheckRun,
  range: KeyRange,
  kinds: readonly string[],
  where: string,
) {
  const chunk = inRange(['a.account_id'], range);
  const { rows } = await run.db.raw<{ rows: AccountRow[] }>(
    `SELECT account_id::text, code, kind, currency, order_id, milestone_id, balance::text,
       version::text, summed::text, entries::text, lowest_after::text, highest_after::text,
       without_after::text,
       last_after::text, last_version::text
     FROM (
       SELECT a.account_id, a.code, a.kind, a.currency, a.order_id, a.milestone_id,
         a.balance_minor AS balance, a.version, s.summed, s.entries, s.lowest_after, s.highest_after,
         s.without_after,
         last.balance_after_minor AS last_after, last.account_version AS last_version
       FROM accounts a
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(e.amount_minor), 0) AS summed, count(*) AS entries,
           min(e.balance_after_minor) AS lowest_after, max(e.balance_after_minor) AS highest_after,
           count(*) FILTER (WHERE e.balance_after_minor IS NULL) AS without_after
         FROM ledger_entries e WHERE e.account_id = a.account_id) s
       LEFT JOIN LATERAL (
         SELECT e.balance_after_minor, e.account_version FROM ledger_entries e
         WHERE e.account_id = a.account_id AND e.account_version IS NOT NULL
         ORDER BY e.account_version DESC LIMIT 1) last ON true
       WHERE ${chunk.sql} AND a.kind = ANY(?::text[])) AS account
     WHERE ${where}
     ORDER BY account.account_id`,
    [...chunk.bindings, [...kinds]],
  );
  return rows;
}

const floorKinds = ['ESCROW_HOLD', 'DISPUTED_FUNDS', 'PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE'];
/** Owed to the platform: at or below zero (src/ledger/post-transactions.ts, accounts_balance_floor). */
const ceilingKinds = ['PROVIDER_RECEIVABLE'];
/** Every kind that keeps a running balance (accounts.maintains_balance). */
const runningKinds = [...floorKinds, ...ceilingKinds];
const accountScan = (run: CheckRun) => ({
  table: 'accounts',
  columns: ['account_id'],
  total: run.totals.accounts,
});
const about = (row: Pick<AccountRow, 'code' | 'order_id' | 'milestone_id'>) => ({
  subject: `account ${row.code}`,
  refs: {
    accountCode: row.code,
    ...(row.order_id ? { orderId: row.order_id } : {}),
    ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
  },
});

export const balancesNotNegative: Check = {
  name: 'balances_not_negative',
  invariant:
    'DESIGN.md: escrow, disputed and payable accounts never go negative; a provider receivable never above zero',
  description:
    'no ESCROW_HOLD, DISPUTED_FUNDS, PROVIDER_PAYABLE or BUYER_REFUND_PAYABLE account is below zero, and ' +
    'no PROVIDER_RECEIVABLE above zero, by its running balance, by the sum of its entries, or at any entry',
  action:
    'more left the account than entered it (for a receivable: more recovered than was charged back): find ' +
    'the transaction that crossed zero (its entry records the balance after) and post a correcting transaction',
  async run(run) {
    await forEachChunk(run, accountScan(run), async (range) => {
      const below = 'balance < 0 OR summed < 0 OR lowest_after < 0';
      for (const row of await accountsWhere(run, range, floorKinds, below)) {
        const text = (minor: string) => amountText(minor, row.currency);
        const problems = [
          BigInt(row.balance) < 0n ? `running balance ${text(row.balance)}` : '',
          BigInt(row.summed) < 0n ? `its entries sum to ${text(row.summed)}` : '',
          row.lowest_after !== null && BigInt(row.lowest_after) < 0n
            ? `an entry left it at ${text(row.lowest_after)}`
            : '',
        ].filter(Boolean);
        run.found({ ...about(row), problem: `is negative: ${problems.join('; ')}` });
      }
      const above = 'balance > 0 OR summed > 0 OR highest_after > 0';
      for (const row of await accountsWhere(run, range, ceilingKinds, above)) {
        const text = (minor: string) => amountText(minor, row.currency);
        const problems = [
          BigInt(row.balance) > 0n ? `running balance ${text(row.balance)}` : '',
          BigInt(row.summed) > 0n ? `its entries sum to ${text(row.summed)}` : '',
          row.highest_after !== null && BigInt(row.highest_after) > 0n
            ? `an entry left it at ${text(row.highest_after)}`
            : '',
        ].filter(Boolean);
        run.found({
          ...about(row),
          problem:
            `is above zero, so more was recovered from the provider than was charged back: ` +
            problems.join('; '),
        });
      }
    });
  },
};

export const runningBalancesMatchEntries: Check = {
  name: 'running_balances_match_entries',
  invariant: 'DESIGN.md: each entry records the balance after it; the running balance is their sum',
  description:
    "for every account that keeps a running balance, the row's balance equals the sum of its entries, its " +
    'version equals their count, and the last entry recorded that same balance and version',
  action:
    'the entries are the truth: set the account row to the sum of its entries, after finding what ' +
    'changed the row outside postTransactions',
  async run(run) {
    await forEachChunk(run, accountScan(run), async (range) => {
      const where = `balance <> summed OR version <> entries OR without_after > 0
        OR (entries > 0 AND (last_after IS DISTINCT FROM balance OR last_version IS DISTINCT FROM version))`;
      for (const row of await accountsWhere(run, range, runningKinds, where)) {
        const text = (minor: string) => amountText(minor, row.currency);
        const problems: string[] = [];
        if (BigInt(row.balance) !== BigInt(row.summed)) {
          problems.push(
            `running balance ${text(row.balance)} but its entries sum to ${text(row.summed)}`,
          );
        }
        if (row.version !== row.entries) {
          problems.push(`version ${row.version} but it has ${row.entries} entries`);
        }
        if (row.without_after !== '0') {
          problems.push(`${row.without_after} entries record no balance after them`);
        }
        if (
          row.entries !== '0' &&
          (row.last_after !== row.balance || row.last_version !== row.version)
        ) {
          problems.push(
            `its last entry recorded ${text(row.last_after ?? '0')} at version ${row.last_version ?? '-'}`,
          );
        }
        run.found({ ...about(row), problem: problems.join('; ') });
      }
    });
  },
};

export const orphanedEscrowAccounts: Check = {
  name: 'orphaned_escrow_accounts',
  invariant:
    'DESIGN.md invariant 4: no orphaned funds; money is held, disputed, payable, in payout, paid out, ' +
    'refunded, receivable or revenue',
  description: 'every escrow hold and disputed-funds account belongs to an existing milestone',
  action:
    'money was posted for a milestone that does not exist: find the transactions of the account and ' +
    'reverse them, or restore the missing order and milestone',
  async run(run) {
    await forEachChunk(run, accountScan(run), async (range) => {
      const chunk = inRange(['a.account_id'], range);
      // LIMIT keeps the milestone probe an index lookup per account (see milestone_state).
      const { rows } = await run.db.raw<{
        rows: Pick<
          AccountRow,
          'code' | 'currency' | 'order_id' | 'milestone_id' | 'summed' | 'entries'
        >[];
      }>(
        `SELECT a.account_id::text, a.code, a.currency, a.order_id, a.milestone_id,
           s.summed::text, s.entries::text
         FROM accounts a
         LEFT JOIN LATERAL (SELECT true AS found FROM milestones m
           WHERE m.order_id = a.order_id AND m.milestone_id = a.milestone_id LIMIT 1) m ON true
         CROSS JOIN LATERAL (SELECT coalesce(sum(e.amount_minor), 0) AS summed, count(*) AS entries
           FROM ledger_entries e WHERE e.account_id = a.account_id) s
         WHERE ${chunk.sql} AND a.kind IN ('ESCROW_HOLD', 'DISPUTED_FUNDS') AND m.found IS NULL
         ORDER BY a.account_id`,
        chunk.bindings,
      );
      for (const row of rows) {
        run.found({
          ...about(row),
          problem:
            `belongs to milestone ${row.order_id ?? '?'}/${row.milestone_id ?? '?'}, which does not exist; ` +
            `it holds ${amountText(row.summed, row.currency)} in ${row.entries} entries`,
        });
      }
    });
  },
};
