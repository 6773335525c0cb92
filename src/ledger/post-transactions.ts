/**
 * Writes a decision's ledger transactions inside the caller's Knex transaction,
 * so they commit or vanish with the state change they explain. Refuses, with a
 * typed LedgerError and before writing any ledger row, a transaction that does
 * not net to zero per currency or that would take an escrow, disputed or
 * payable account below zero; the caller's transaction then rolls back
 * whatever else it wrote. The database checks both again (see the ledger
 * migration).
 *
 * Accounts with a running balance are locked in account-code order, the same
 * order for every writer, so two writers touching the same accounts queue
 * instead of deadlocking. A provider's payable and receivable are shared by
 * all of its orders, so concurrent transactions of different orders wait on
 * them: a slice draws its ids first (allocateLedger) and locks the accounts
 * only in its last statement (postAllocatedLedger), holding them just for
 * that statement and its commit.
 */
import type { Knex } from 'knex';
import { accountCode, type TransactionDraft } from '../domain/escrow';
import { formatAmount, money } from '../domain/money';
import { compareCodePoints } from '../domain/text/code-point-order';
import { columnsOf, prepared, Recordset } from '../db/columns';
import { type ChainedEntry, chainGenesis, chainHash, chainKey, chainTimestampSql } from './chain';
import { ChainHeadMoved, LedgerError } from './errors';

interface ChainHead {
  key: string;
  hash: string;
  length: string;
}

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
  // Nearly every draft is in one currency: summed in one bigint, a Map only for several.
  const first = draft.postings[0]!.amount.currency;
  let firstTotal = 0n;
  let others: Map<string, bigint> | null = null;
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
    if (currency === first) firstTotal += minor;
    else (others ??= new Map()).set(currency, (others.get(currency) ?? 0n) + minor);
  }
  if (firstTotal !== 0n) throw unbalanced(draft, first, firstTotal);
  for (const [currency, total] of others ?? []) {
    if (total !== 0n) throw unbalanced(draft, currency, total);
  }
}

const unbalanced = (draft: TransactionDraft, currency: string, total: bigint) =>
  new LedgerError(
    'LEDGER_UNBALANCED',
    `${draft.kind} for ${draft.orderId}/${draft.milestoneId ?? '-'} does not net to zero in ` +
      `${currency}: off by ${formatAmount(money(currency, total))}`,
  );

/**
 * Creates missing accounts and locks the ones with a running balance, in code
 * order. Several calls in one transaction (a replay of kept events) each lock
 * in order, but not across calls, so two such transactions can still deadlock
 * on two party accounts; Postgres then aborts one with 40P01, which is retried.
 *
 * Only codes no committed row has are offered to the insert: ON CONFLICT
 * checks the unique index, and an index entry whose row another open
 * transaction has updated (a running balance) makes the insert wait for that
 * whole transaction, even though nothing would be inserted. The NOT EXISTS is
 * a plain read, which never waits; an account another transaction is
 * creating right now still makes this one wait for it, then DO NOTHING.
 */
export async function lockAccounts(trx: Knex.Transaction, drafts: readonly TransactionDraft[]) {
  // Each posting's code is built once here (percent-encoding its ids), not again per use.
  const byCode = new Map<string, TransactionDraft['postings'][number]['account']>();
  const postingCodes = drafts.map((d) =>
    d.postings.map((p) => {
      const code = accountCode(p.account);
      byCode.set(code, p.account);
      return code;
    }),
  );
  const codes = [...byCode.keys()].sort(compareCodePoints);
  await prepared(
    trx,
    'ledger_accounts_insert',
    `INSERT INTO accounts (code, kind, currency, order_id, milestone_id, party_id)
     SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
       AS wanted(code, kind, currency, order_id, milestone_id, party_id)
     WHERE NOT EXISTS (SELECT 1 FROM accounts existing WHERE existing.code = wanted.code)
     ORDER BY 1
     ON CONFLICT (code) DO NOTHING`,
    columnsOf(
      codes,
      codes.map((code) => byCode.get(code)!.kind),
      codes.map((code) => byCode.get(code)!.currency),
      codes.map((code) => byCode.get(code)!.orderId ?? null),
      codes.map((code) => byCode.get(code)!.milestoneId ?? null),
      codes.map((code) => byCode.get(code)!.partyId ?? null),
    ),
  );
  // Locks only accounts with a running balance, in code order; clearing and
  // revenue keep none and are touched by nearly every writer, so locking them
  // would serialize all. One statement reads both kinds: the locked rows are
  // the latest committed versions (read under the lock), the balances to build on.
  const { rows } = await prepared<{ rows: AccountRow[] }>(
    trx,
    'ledger_accounts_read_lock',
    `WITH locked AS (
       SELECT account_id, code, balance_minor, version, maintains_balance FROM accounts
       WHERE code = ANY(?::text[]) AND maintains_balance
       ORDER BY code COLLATE "C"
       FOR UPDATE
     )
     SELECT account_id, code, balance_minor, version, maintains_balance FROM accounts
     WHERE code = ANY(?::text[]) AND NOT maintains_balance
     UNION ALL
     SELECT account_id, code, balance_minor, version, maintains_balance FROM locked`,
    [codes, codes],
  );
  const byLockedCode = new Map(rows.map((row) => [row.code, row]));
  /** Each draft's accounts, by posting, as read (and, for a running balance, locked). */
  return postingCodes.map((codesOfDraft) => codesOfDraft.map((code) => byLockedCode.get(code)!));
}

/** A ledger_entries row as written, and the entry its transaction's hash covers. */
interface LedgerEntry extends ChainedEntry {
  readonly transactionId: string;
}

/** A draft with the inbound event that caused it. */
export interface CausedDraft {
  readonly draft: TransactionDraft;
  readonly cause: Cause;
}

/**
 * What a ledger write builds on besides the accounts: the drafts, their
 * transaction ids (drawn from the identity's sequence), the chain heads of
 * their orders and the transaction's clock.
 */
export interface LedgerAllocation {
  readonly items: readonly CausedDraft[];
  /** The new ledger transaction ids, in the drafts' order. */
  readonly ids: readonly string[];
  readonly heads: ReadonlyMap<string, ChainHead>;
  readonly createdAt: string;
}

type LockedAccounts = Awaited<ReturnType<typeof lockAccounts>>;
type Balances = ReturnType<typeof runningBalances>;

/** Posts the drafts in order; returns the new ledger transaction ids, in the same order. */
export async function postTransactions(
  trx: Knex.Transaction,
  drafts: readonly TransactionDraft[],
  cause: Cause,
): Promise<string[]> {
  return postLedger(
    trx,
    drafts.map((draft) => ({ draft, cause })),
  );
}

/**
 * Posts drafts of any number of events in a fixed number of statements: the
 * accounts are created and locked once, every running balance is computed
 * before anything is written (a refusal leaves nothing behind), the
 * transaction ids are drawn from the identity's sequence in one round trip,
 * and transactions, entries, releases and balances are each written by one
 * multi-row statement. Returns the ids in the drafts' order.
 *
 * The chain heads are read after the accounts are locked, so writers that
 * share accounts without holding their orders' locks queue on the accounts
 * and read the head the one before them left. The pipeline holds its orders'
 * locks and takes the two steps apart instead (allocateLedger, then
 * postAllocatedLedger last), so that the shared accounts are locked only at
 * the end of its transaction.
 */
export async function postLedger(
  trx: Knex.Transaction,
  items: readonly CausedDraft[],
): Promise<string[]> {
  if (items.length === 0) return [];
  const drafts = items.map((item) => item.draft);
  drafts.forEach(checkBalanced);
  const accounts = await lockAccounts(trx, drafts);
  const balances = runningBalances(drafts, accounts);
  const allocation = await drawIds(trx, items);
  await writeLedger(trx, allocation, accounts, balances);
  return [...allocation.ids];
}

/**
 * The first step of a slice's ledger write, which locks no account: checks
 * that every draft nets to zero (refused before anything is written), then
 * draws the ids, reads the chain heads of the drafts' orders and the
 * transaction's clock in one round trip. The caller can write the rows that
 * name the ids (payments, outbox, chargebacks) before postAllocatedLedger
 * locks the shared accounts. The heads are current: every writer of an order
 * holds its advisory lock (src/store/order-writes.ts), and the write refuses
 * a head that moved anyway.
 */
export async function allocateLedger(
  trx: Knex.Transaction,
  items: readonly CausedDraft[],
): Promise<LedgerAllocation> {
  if (items.length === 0) return { items, ids: [], heads: new Map(), createdAt: '' };
  items.forEach((item) => checkBalanced(item.draft));
  return drawIds(trx, items);
}

/** The ids, the chain heads of the drafts' orders and the transaction's clock, in one round trip. */
async function drawIds(
  trx: Knex.Transaction,
  items: readonly CausedDraft[],
): Promise<LedgerAllocation> {
  const chainKeys = [...new Set(items.map((item) => chainKey(item.draft.orderId)))];
  const { rows } = await prepared<{
    rows: { ids: string[]; heads: ChainHead[] | null; created_at: string }[];
  }>(
    trx,
    'ledger_ids',
    `SELECT
       ARRAY(SELECT nextval(pg_get_serial_sequence('ledger_transactions', 'transaction_id'))::text
             FROM generate_series(1, ?)) AS ids,
       (SELECT json_agg(json_build_object('key', order_id, 'hash', hash, 'length', length::text))
        FROM ledger_chain_heads WHERE order_id = ANY(?::text[])) AS heads,
       ${chainTimestampSql('now()')} AS created_at`,
    [items.length, chainKeys],
  );
  const { ids, heads, created_at: createdAt } = rows[0]!;
  return { items, ids, heads: new Map((heads ?? []).map((head) => [head.key, head])), createdAt };
}

/**
 * The last step: locks the running-balance accounts in code order, computes
 * every balance on what the locks read (refusing one below its floor), hashes
 * the chain on those balances (an entry's balance_after is hashed) and writes
 * the ledger. Run last in the transaction, the locks of accounts that other
 * orders share are held only for this and the commit.
 */
export async function postAllocatedLedger(
  trx: Knex.Transaction,
  allocation: LedgerAllocation,
): Promise<void> {
  if (allocation.items.length === 0) return;
  const drafts = allocation.items.map((item) => item.draft);
  const accounts = await lockAccounts(trx, drafts);
  await writeLedger(trx, allocation, accounts, runningBalances(drafts, accounts));
}

/** The multi-row parameters of writeLedger's statement, one jsonb of positional rows each (src/db/columns.ts). */
const ledgerRows = {
  transactions: new Recordset<object>(
    'transaction',
    `id bigint, kind text, order_id text, milestone_id text, cause text, topic text, memo jsonb,
      previous_hash text, hash text`,
  ),
  // Read once (the new_heads CTE), by both the heads moved and the heads created.
  heads: new Recordset<object>(
    'head',
    'order_id text, hash text, length bigint, expected_hash text',
  ),
  // Quoted: the entries' keys are the chain's (ChainedEntry), camelCase.
  entries: new Recordset<LedgerEntry>(
    'entry',
    `"transactionId" bigint, "accountId" bigint, currency text, "amountMinor" bigint,
      "balanceAfterMinor" bigint, "accountVersion" bigint`,
  ),
  releases: new Recordset<object>(
    'release',
    'transaction_id bigint, provider_id text, currency text, gross_minor bigint, fee_minor bigint',
  ),
  balances: new Recordset<object>(
    'balance',
    'account_id bigint, balance_minor bigint, version bigint',
  ),
};

/**
 * The ledger's rows, hashed on the balances read under lock, in one
 * statement; refuses (ChainHeadMoved) a write whose order's head moved.
 */
async function writeLedger(
  trx: Knex.Transaction,
  allocation: LedgerAllocation,
  accounts: LockedAccounts,
  { entryBalances, running }: Balances,
): Promise<void> {
  const { items, ids, createdAt } = allocation;
  // Named as the chain hashes an entry (ChainedEntry), so that one object is both the
  // row written (the recordset's quoted columns) and the entry hashed.
  const entries: LedgerEntry[] = items.flatMap(({ draft }, index) =>
    draft.postings.map((posting, line) => ({
      transactionId: ids[index]!,
      accountId: accounts[index]![line]!.account_id,
      currency: posting.amount.currency,
      amountMinor: posting.amount.minor.toString(),
      balanceAfterMinor: entryBalances[index]![line]!.balance?.toString() ?? null,
      accountVersion: entryBalances[index]![line]!.version?.toString() ?? null,
    })),
  );
  const { transactions, newHeads } = chainTransactions(allocation, entries);
  const releases = items.flatMap(({ draft }, index) =>
    draft.release
      ? [
          {
            transaction_id: ids[index]!,
            provider_id: draft.release.providerId,
            currency: draft.release.gross.currency,
            gross_minor: draft.release.gross.minor.toString(),
            fee_minor: draft.release.fee.minor.toString(),
          },
        ]
      : [],
  );
  const balances = [...running.values()].map((state) => ({
    account_id: state.accountId,
    balance_minor: state.balance.toString(),
    version: state.version.toString(),
  }));
  // One round trip for all four tables. The sub-statements run together and
  // foreign keys are checked at the end of the statement, when the
  // transactions the entries and releases point at are there; each nets to
  // zero is checked at commit (the deferred trigger).
  const { rows: written } = await prepared<{ rows: { heads: string }[] }>(
    trx,
    'ledger_write',
    `WITH new_heads AS (
       SELECT * FROM ${ledgerRows.heads.sql}
     ), inserted_transactions AS (
       INSERT INTO ledger_transactions (transaction_id, kind, order_id, milestone_id,
         cause_event_id, cause_topic, memo, created_at, previous_hash, hash)
       OVERRIDING SYSTEM VALUE
       SELECT id, kind, order_id, milestone_id, cause, topic, memo, ?::timestamptz,
         previous_hash, hash
       FROM ${ledgerRows.transactions.sql}
       RETURNING 1
     ), moved_heads AS (
       -- Each order's head moves from the hash this write built on, or not at all: a
       -- head another writer moved meanwhile matches no row here (re-checked after its
       -- lock wait), and the count below refuses the write rather than fork the chain.
       UPDATE ledger_chain_heads head SET hash = moved.hash, length = moved.length
       FROM new_heads AS moved
       WHERE head.order_id = moved.order_id AND moved.expected_hash <> ''
         AND head.hash = moved.expected_hash
       RETURNING 1
     ), created_heads AS (
       -- An order's first transaction starts its chain; a head created meanwhile wins.
       INSERT INTO ledger_chain_heads (order_id, hash, length)
       SELECT order_id, hash, length FROM new_heads
       WHERE expected_hash = ''
       ON CONFLICT (order_id) DO NOTHING
       RETURNING 1
     ), inserted_entries AS (
       INSERT INTO ledger_entries
         (transaction_id, account_id, currency, amount_minor, balance_after_minor, account_version)
       SELECT * FROM ${ledgerRows.entries.sql}
       RETURNING 1
     ), inserted_releases AS (
       INSERT INTO releases (transaction_id, provider_id, currency, gross_minor, fee_minor, released_at)
       SELECT transaction_id, provider_id, currency, gross_minor, fee_minor, now()
       FROM ${ledgerRows.releases.sql}
       RETURNING 1
     ), updated_balances AS (
       UPDATE accounts account SET balance_minor = balance.balance_minor, version = balance.version
       FROM ${ledgerRows.balances.sql}
       WHERE account.account_id = balance.account_id
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM inserted_transactions) AS transactions,
            ((SELECT count(*) FROM moved_heads) + (SELECT count(*) FROM created_heads))::text
              AS heads,
            (SELECT count(*) FROM inserted_entries) AS entries,
            (SELECT count(*) FROM inserted_releases) AS releases,
            (SELECT count(*) FROM updated_balances) AS balances`,
    [
      ledgerRows.heads.json(newHeads),
      createdAt,
      ledgerRows.transactions.json(transactions),
      ledgerRows.entries.json(entries),
      ledgerRows.releases.json(releases),
      ledgerRows.balances.json(balances),
    ],
  );
  if (Number(written[0]!.heads) !== newHeads.length) {
    throw new ChainHeadMoved(newHeads.length - Number(written[0]!.heads));
  }
}

/**
 * Each transaction's row and hash, chained per order from the head the
 * allocation read, and each order's new head with the hash it moves from.
 */
function chainTransactions(
  { items, ids, heads, createdAt }: LedgerAllocation,
  entries: readonly LedgerEntry[],
) {
  const chain = new Map(heads);
  const chainKeys = [...new Set(items.map((item) => chainKey(item.draft.orderId)))];
  const expectedHeads = new Map(
    chainKeys.map((key) => [key, chain.get(key)?.hash ?? chainGenesis]),
  );
  let entryIndex = 0;
  const transactions = items.map(({ draft, cause }, index) => {
    const key = chainKey(draft.orderId);
    const head = chain.get(key);
    const previous = head?.hash ?? chainGenesis;
    const lines = entries.slice(entryIndex, (entryIndex += draft.postings.length));
    const hash = chainHash(previous, {
      transactionId: ids[index]!,
      kind: draft.kind,
      orderId: draft.orderId,
      milestoneId: draft.milestoneId,
      causeEventId: cause.eventId,
      causeTopic: cause.topic,
      correctsTransactionId: null,
      memo: draft.memo,
      createdAt,
      entries: lines,
    });
    chain.set(key, { key, hash, length: (BigInt(head?.length ?? '0') + 1n).toString() });
    return {
      id: ids[index],
      kind: draft.kind,
      order_id: draft.orderId,
      milestone_id: draft.milestoneId,
      cause: cause.eventId,
      topic: cause.topic,
      memo: draft.memo,
      previous_hash: previous,
      hash,
    };
  });
  const newHeads = chainKeys.map((key) => ({
    order_id: key,
    hash: chain.get(key)!.hash,
    length: chain.get(key)!.length,
    expected_hash: expectedHeads.get(key)!,
  }));
  return { transactions, newHeads };
}

/**
 * Every entry's balance after it, for accounts that keep one, building on the
 * balances read under lock; refuses a draft that would take one below zero.
 */
function runningBalances(drafts: readonly TransactionDraft[], accounts: LockedAccounts) {
  const running = new Map<string, { accountId: string; balance: bigint; version: bigint }>();
  const entryBalances = drafts.map((draft, index) =>
    draft.postings.map((posting, line) => {
      const account = accounts[index]![line]!;
      if (!account.maintains_balance) return { balance: null, version: null };
      const state = running.get(account.code) ?? {
        accountId: account.account_id,
        balance: BigInt(account.balance_minor),
        version: BigInt(account.version),
      };
      const next = {
        accountId: account.account_id,
        balance: state.balance + posting.amount.minor,
        version: state.version + 1n,
      };
      // A provider receivable is owed to the platform, so it runs at or below
      // zero: above zero would mean more recovered than was ever charged back.
      const receivable = posting.account.kind === 'PROVIDER_RECEIVABLE';
      if (receivable ? next.balance > 0n : next.balance < 0n) {
        throw new LedgerError(
          'LEDGER_NEGATIVE_BALANCE',
          `${draft.kind} would take ${account.code} to ` +
            `${formatAmount(money(posting.amount.currency, next.balance))}; it never goes ` +
            (receivable ? 'above zero (more recovered than charged back)' : 'below zero'),
        );
      }
      running.set(account.code, next);
      return next;
    }),
  );
  return { entryBalances, running };
}
