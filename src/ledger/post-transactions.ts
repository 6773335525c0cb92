/**
 * Writes a decision's ledger transactions inside the caller's Knex transaction,
 * so they commit or vanish with the state change they explain. Refuses, with a
 * typed LedgerError and before writing anything, a transaction that does not
 * net to zero per currency or that would take an escrow, disputed or payable
 * account below zero. The database checks both again (see the ledger migration).
 *
 * Accounts with a running balance are locked in account-code order, the same
 * order for every writer, so two writers touching the same accounts queue
 * instead of deadlocking.
 */
import type { Knex } from 'knex';
import { accountCode, type TransactionDraft } from '../domain/escrow';
import { formatAmount, money } from '../domain/money';
import { LedgerError } from './errors';

export interface Cause {
  eventId: string;
  topic: string;
}

interface AccountRow {
  account_id: string;
  code: string;
  balance_minor: string;
  version: string;
  maintains_balance: boolean;
}

function checkBalanced(draft: TransactionDraft): void {
  if (draft.postings.length < 2) {
    throw new LedgerError(
      'LEDGER_EMPTY',
      `a ${draft.kind} transaction needs at least two postings`,
    );
  }
  const net = new Map<string, bigint>();
  for (const posting of draft.postings) {
    const { currency, minor } = posting.amount;
    if (minor === 0n)
      throw new LedgerError('LEDGER_UNBALANCED', `${draft.kind} has a zero posting`);
    if (posting.account.currency !== currency) {
      throw new LedgerError(
        'LEDGER_UNBALANCED',
        `${draft.kind} posts ${currency} to ${accountCode(posting.account)}, an account in ${posting.account.currency}`,
      );
    }
    net.set(currency, (net.get(currency) ?? 0n) + minor);
  }
  for (const [currency, total] of net) {
    if (total !== 0n) {
      throw new LedgerError(
        'LEDGER_UNBALANCED',
        `${draft.kind} for ${draft.orderId}/${draft.milestoneId ?? '-'} does not net to zero in ` +
          `${currency}: off by ${formatAmount(money(currency, total))}`,
      );
    }
  }
}

/** pg sends a null inside an array parameter as SQL NULL; Knex's types only know string[]. */
const nullable = (values: (string | null)[]) => values as string[];

/**
 * Creates missing accounts and locks the ones with a running balance, in code
 * order. Several calls in one transaction (a replay of kept events) each lock
 * in order, but not across calls, so two such transactions can still deadlock
 * on two party accounts; Postgres then aborts one with 40P01, which is retried.
 */
async function lockAccounts(trx: Knex.Transaction, drafts: readonly TransactionDraft[]) {
  const byCode = new Map(
    drafts.flatMap((d) => d.postings.map((p) => [accountCode(p.account), p.account])),
  );
  const codes = [...byCode.keys()].sort();
  await trx.raw(
    `INSERT INTO accounts (code, kind, currency, order_id, milestone_id, party_id)
     SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
     ORDER BY 1
     ON CONFLICT (code) DO NOTHING`,
    [
      codes,
      codes.map((code) => byCode.get(code)!.kind),
      codes.map((code) => byCode.get(code)!.currency),
      nullable(codes.map((code) => byCode.get(code)!.orderId ?? null)),
      nullable(codes.map((code) => byCode.get(code)!.milestoneId ?? null)),
      nullable(codes.map((code) => byCode.get(code)!.partyId ?? null)),
    ],
  );
  const { rows } = await trx.raw<{ rows: AccountRow[] }>(
    `SELECT account_id, code, balance_minor, version, maintains_balance FROM accounts
     WHERE code = ANY(?::text[]) ORDER BY code`,
    [codes],
  );
  // Lock only accounts with a running balance; clearing and revenue keep none
  // and are touched by nearly every writer, so locking them would serialize all.
  const maintained = rows.filter((row) => row.maintains_balance).map((row) => row.code);
  if (maintained.length > 0) {
    const { rows: locked } = await trx.raw<{ rows: AccountRow[] }>(
      `SELECT account_id, code, balance_minor, version, maintains_balance FROM accounts
       WHERE code = ANY(?::text[]) ORDER BY code
       FOR UPDATE`,
      [maintained],
    );
    // Re-read under the lock: these balances are the ones to build on.
    for (const row of locked) rows[rows.findIndex((r) => r.code === row.code)] = row;
  }
  return new Map(rows.map((row) => [row.code, row]));
}

/** Posts the drafts in order; returns the new ledger transaction ids, in the same order. */
export async function postTransactions(
  trx: Knex.Transaction,
  drafts: readonly TransactionDraft[],
  cause: Cause,
): Promise<string[]> {
  if (drafts.length === 0) return [];
  drafts.forEach(checkBalanced);
  const accounts = await lockAccounts(trx, drafts);

  // Compute every running balance first, so a refusal leaves nothing written.
  const running = new Map<string, { balance: bigint; version: bigint }>();
  const entryBalances = drafts.map((draft) =>
    draft.postings.map((posting) => {
      const account = accounts.get(accountCode(posting.account))!;
      if (!account.maintains_balance) return { balance: null, version: null };
      const state = running.get(account.code) ?? {
        balance: BigInt(account.balance_minor),
        version: BigInt(account.version),
      };
      const next = { balance: state.balance + posting.amount.minor, version: state.version + 1n };
      if (next.balance < 0n) {
        throw new LedgerError(
          'LEDGER_NEGATIVE_BALANCE',
          `${draft.kind} would take ${account.code} to ` +
            `${formatAmount(money(posting.amount.currency, next.balance))}; it never goes below zero`,
        );
      }
      running.set(account.code, next);
      return next;
    }),
  );

  const ids: string[] = [];
  for (const [index, draft] of drafts.entries()) {
    const [row] = await trx('ledger_transactions')
      .insert({
        kind: draft.kind,
        order_id: draft.orderId,
        milestone_id: draft.milestoneId,
        cause_event_id: cause.eventId,
        cause_topic: cause.topic,
        memo: draft.memo,
      })
      .returning<{ transaction_id: string }[]>('transaction_id');
    const transactionId = row!.transaction_id;
    ids.push(transactionId);
    await trx('ledger_entries').insert(
      draft.postings.map((posting, line) => ({
        transaction_id: transactionId,
        account_id: accounts.get(accountCode(posting.account))!.account_id,
        currency: posting.amount.currency,
        amount_minor: posting.amount.minor.toString(),
        balance_after_minor: entryBalances[index]![line]!.balance?.toString() ?? null,
        account_version: entryBalances[index]![line]!.version?.toString() ?? null,
      })),
    );
    if (draft.release) {
      await trx('releases').insert({
        transaction_id: transactionId,
        provider_id: draft.release.providerId,
        currency: draft.release.gross.currency,
        gross_minor: draft.release.gross.minor.toString(),
        fee_minor: draft.release.fee.minor.toString(),
        released_at: trx.fn.now(),
      });
    }
  }
  for (const [code, state] of running) {
    await trx('accounts')
      .where({ account_id: accounts.get(code)!.account_id })
      .update({ balance_minor: state.balance.toString(), version: state.version.toString() });
  }
  return ids;
}
