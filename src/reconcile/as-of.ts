/**
 * Reconciliation as of a past moment (`escrow-worker reconcile --as-of ISO`):
 * what the append-only ledger can say about itself at that moment, read from
 * the transactions stamped by then — each of them nets to zero, the whole
 * ledger nets to zero per currency, no escrow, disputed or payable account
 * was below zero (nor a provider receivable above it), and the money at the
 * gateways equals where the ledger says it was — with the balances by account
 * kind (the liquidity figures of that moment). The other checks compare
 * today's rows (milestones, requests, the outbox) and have no past to read,
 * so they are not run; the report says so.
 */
import type { Knex } from 'knex';
import { amountText } from './text';

export interface AsOfFinding {
  readonly check: string;
  readonly subject: string;
  readonly problem: string;
}

export interface AsOfReport {
  readonly asOf: string;
  readonly clean: boolean;
  readonly transactions: number;
  /** Per currency and account kind, the sum of balances at the moment (minor units). */
  readonly balances: { currency: string; kind: string; amount: string }[];
  readonly checks: { name: string; description: string; findings: number }[];
  readonly findings: AsOfFinding[];
  readonly notChecked: string;
}

const floors: Record<string, 'not below zero' | 'not above zero'> = {
  ESCROW_HOLD: 'not below zero',
  DISPUTED_FUNDS: 'not below zero',
  PROVIDER_PAYABLE: 'not below zero',
  BUYER_REFUND_PAYABLE: 'not below zero',
  PROVIDER_RECEIVABLE: 'not above zero',
};

/** An amount as the rest of the report writes it (char(3) currencies come back padded). */
const amountOf = (currency: string, minor: string | bigint) => amountText(minor, currency.trim());

/** `asOf` is an instant the caller checked (src/ops/query-parameters.ts parseAsOf). */
export async function reconcileAsOf(db: Knex, asOf: string, examples = 20): Promise<AsOfReport> {
  return db.transaction(
    async (trx) => {
      const findings: AsOfFinding[] = [];
      const counts = new Map<string, number>();
      const found = (finding: AsOfFinding) => {
        counts.set(finding.check, (counts.get(finding.check) ?? 0) + 1);
        if (findings.length < examples * 3) findings.push(finding);
      };
      const { rows: total } = await trx.raw<{ rows: { transactions: string }[] }>(
        'SELECT count(*)::text AS transactions FROM ledger_transactions WHERE created_at <= ?',
        [asOf],
      );
      const { rows: unbalanced } = await trx.raw<{
        rows: { transaction_id: string; currency: string; net: string }[];
      }>(
        `SELECT t.transaction_id::text, e.currency, sum(e.amount_minor)::text AS net
         FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.transaction_id
         WHERE t.created_at <= ? GROUP BY t.transaction_id, e.currency
         HAVING sum(e.amount_minor) <> 0 ORDER BY t.transaction_id LIMIT ?`,
        [asOf, examples],
      );
      for (const row of unbalanced)
        found({
          check: 'transactions_net_to_zero',
          subject: `transaction ${row.transaction_id}`,
          problem: `its ${row.currency.trim()} entries sum to ${amountOf(row.currency, row.net)}`,
        });
      // Per account at the moment: the sum of its entries stamped by then.
      const { rows: accounts } = await trx.raw<{
        rows: { code: string; kind: string; currency: string; balance: string }[];
      }>(
        `SELECT a.code, a.kind, a.currency, sum(e.amount_minor)::text AS balance
         FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.transaction_id
         JOIN accounts a ON a.account_id = e.account_id
         WHERE t.created_at <= ? GROUP BY a.code, a.kind, a.currency`,
        [asOf],
      );
      const byKind = new Map<string, bigint>();
      const byCurrency = new Map<string, bigint>();
      for (const account of accounts) {
        const balance = BigInt(account.balance);
        const currency = account.currency.trim();
        const key = `${currency}\u0000${account.kind}`;
        byKind.set(key, (byKind.get(key) ?? 0n) + balance);
        byCurrency.set(currency, (byCurrency.get(currency) ?? 0n) + balance);
        const rule = floors[account.kind];
        if (rule && (rule === 'not below zero' ? balance < 0n : balance > 0n))
          found({
            check: 'balances_not_negative',
            subject: `account ${account.code}`,
            problem: `held ${amountOf(currency, balance)} at that moment; it is ${rule}`,
          });
      }
      for (const [currency, net] of byCurrency)
        if (net !== 0n)
          found({
            check: 'ledger_nets_to_zero',
            subject: `ledger ${currency}`,
            problem: `all ${currency} entries by then sum to ${amountOf(currency, net)}, not zero`,
          });
      const checks = [
        ['transactions_net_to_zero', 'each ledger transaction stamped by then nets to zero'],
        [
          'ledger_nets_to_zero',
          'the whole ledger by then nets to zero in every currency (so the money at the gateways equals where the ledger says it is)',
        ],
        [
          'balances_not_negative',
          'no escrow, disputed or payable account below zero, no receivable above zero, at that moment',
        ],
      ].map(([name, description]) => ({
        name: name!,
        description: description!,
        findings: counts.get(name!) ?? 0,
      }));
      return {
        asOf,
        clean: findings.length === 0,
        transactions: Number(total[0]!.transactions),
        balances: [...byKind]
          .map(([key, minor]) => {
            const [currency, kind] = key.split('\u0000') as [string, string];
            return { currency, kind, amount: amountOf(currency, minor) };
          })
          .sort((a, b) => (a.currency + a.kind < b.currency + b.kind ? -1 : 1)),
        checks,
        findings,
        notChecked:
          'checks of rows that are only current (milestones, payments, requests, chargebacks, ' +
          'the outbox, kept events, waits) and the hash chain: run escrow-worker reconcile without --as-of',
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

export function formatAsOfReport(report: AsOfReport): string {
  const lines = [
    `reconciliation as of ${report.asOf}: ${report.transactions} ledger transactions by then, ` +
      (report.clean ? 'clean' : `${report.findings.length} finding(s)`),
    '',
    ...report.checks.map(
      (check) => `${check.findings === 0 ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.description}`,
    ),
    '',
    'balances at that moment, by account kind:',
    ...report.balances.map((row) => `  ${row.currency} ${row.kind.padEnd(22)} ${row.amount}`),
  ];
  if (report.findings.length > 0) {
    lines.push('', 'findings:');
    for (const finding of report.findings)
      lines.push(`  ${finding.check}: ${finding.subject}: ${finding.problem}`);
  }
  lines.push('', `not checked as of a moment: ${report.notChecked}`);
  return `${lines.join('\n')}\n`;
}
