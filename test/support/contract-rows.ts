/**
 * What the contract-rule tests assert on, read straight from storage with
 * every amount in minor units as a string: a milestone's state, version and
 * balances; an order's ledger transactions with their entries by account
 * code; the outbox rows of an order, reduced to what a consumer acts on; an
 * event's inbox verdict.
 */
import type { Knex } from 'knex';

export interface StoredBalances {
  state: string;
  version: number;
  amount: string;
  funded: string;
  held: string;
  disputed: string;
  released: string;
  fees: string;
  refunded: string;
}

interface MilestoneBalanceRow {
  state: string;
  version: number;
  amount_minor: string;
  funded_minor: string;
  held_minor: string;
  disputed_minor: string;
  released_minor: string;
  fees_minor: string;
  refunded_minor: string;
  inspection_deadline: Date | null;
  inspection_remaining_ms: string | null;
  dispute_id: string | null;
  reached: boolean;
}

export async function milestoneRow(
  db: Knex,
  orderId: string,
  milestoneId: string,
): Promise<MilestoneBalanceRow> {
  const row = await db('milestones')
    .where({ order_id: orderId, milestone_id: milestoneId })
    .first<MilestoneBalanceRow | undefined>();
  if (!row) throw new Error(`milestone ${orderId}/${milestoneId} is not stored`);
  return row;
}

/** The milestone's state, version and balances as stored. */
export async function balancesOf(
  db: Knex,
  orderId: string,
  milestoneId: string,
): Promise<StoredBalances> {
  const row = await milestoneRow(db, orderId, milestoneId);
  return {
    state: row.state,
    version: row.version,
    amount: row.amount_minor,
    funded: row.funded_minor,
    held: row.held_minor,
    disputed: row.disputed_minor,
    released: row.released_minor,
    fees: row.fees_minor,
    refunded: row.refunded_minor,
  };
}

/** Expected balances: zero wherever the test names nothing. */
export const balances = (
  state: string,
  version: number,
  amounts: Partial<Omit<StoredBalances, 'state' | 'version'>>,
): StoredBalances => ({
  state,
  version,
  amount: '0',
  funded: '0',
  held: '0',
  disputed: '0',
  released: '0',
  fees: '0',
  refunded: '0',
  ...amounts,
});

export interface LedgerTransaction {
  transactionId: string;
  kind: string;
  milestoneId: string | null;
  cause: string;
  memo: Record<string, unknown>;
  /** Account code → amount in minor units (positive adds to the account). */
  entries: Record<string, string>;
}

/** The order's ledger transactions in the order they were posted. */
export async function ledgerOf(db: Knex, orderId: string): Promise<LedgerTransaction[]> {
  const { rows } = await db.raw<{
    rows: {
      transaction_id: string;
      kind: string;
      milestone_id: string | null;
      cause_event_id: string;
      memo: Record<string, unknown>;
      entries: { code: string; amount: string }[];
    }[];
  }>(
    `SELECT t.transaction_id::text, t.kind, t.milestone_id, t.cause_event_id, t.memo,
       json_agg(json_build_object('code', a.code, 'amount', e.amount_minor::text)
         ORDER BY e.entry_id) AS entries
     FROM ledger_transactions t
     JOIN ledger_entries e USING (transaction_id)
     JOIN accounts a USING (account_id)
     WHERE t.order_id = ?
     GROUP BY t.transaction_id ORDER BY t.transaction_id`,
    [orderId],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    kind: row.kind,
    milestoneId: row.milestone_id,
    cause: row.cause_event_id,
    memo: row.memo,
    entries: Object.fromEntries(row.entries.map((entry) => [entry.code, entry.amount])),
  }));
}

/** A ledger transaction as a test states it: kind, milestone, cause and entries. */
export const posted = (tx: LedgerTransaction) => ({
  kind: tx.kind,
  milestoneId: tx.milestoneId,
  cause: tx.cause,
  entries: tx.entries,
});

export interface OutboxRow {
  outboxId: string;
  topic: string;
  type: string;
  payload: Record<string, unknown>;
}

/** The outbox rows of an order, oldest first; `after` skips what a test saw already. */
export async function outboxOf(db: Knex, orderId: string, after = '0'): Promise<OutboxRow[]> {
  const rows = await db('outbox')
    .where({ message_key: orderId })
    .andWhere('outbox_id', '>', after)
    .orderBy('outbox_id')
    .select<{ outbox_id: string; topic: string; type: string; payload: Record<string, unknown> }[]>(
      'outbox_id',
      'topic',
      'type',
      'payload',
    );
  return rows.map((row) => ({
    outboxId: String(row.outbox_id),
    topic: row.topic,
    type: row.type,
    payload: row.payload,
  }));
}

/** The last outbox id of an order (or '0'): a mark to read what comes after. */
export async function outboxMark(db: Knex, orderId: string): Promise<string> {
  const rows = await outboxOf(db, orderId);
  return rows.at(-1)?.outboxId ?? '0';
}

/**
 * An outcome reduced to what its consumer acts on: payouts their gross, fee
 * and net; refunds their amount and reason; events their milestone, version,
 * state and, for a rejection, the reason.
 */
export function outcome(row: OutboxRow): Record<string, unknown> {
  const { payload } = row;
  const common = {
    type: row.type,
    milestoneId: payload.milestoneId,
    milestoneVersion: payload.milestoneVersion,
  };
  switch (row.type) {
    case 'PAYOUT_REQUESTED':
      return {
        ...common,
        currency: payload.currency,
        gross: payload.grossAmount,
        fee: payload.feeAmount,
        net: payload.netAmount,
      };
    case 'REFUND_REQUESTED':
      return {
        ...common,
        currency: payload.currency,
        amount: payload.amount,
        reason: payload.reason,
      };
    case 'EVENT_REJECTED':
      return { ...common, reason: payload.reason };
    default:
      return { ...common, state: payload.state };
  }
}

/** The extra facts an escrow.events.v1 outcome carries in `details`. */
export const detailsOf = (row: OutboxRow): Record<string, unknown> =>
  typeof row.payload.details === 'string'
    ? (JSON.parse(row.payload.details) as Record<string, unknown>)
    : {};

/** The inbox's verdict on an event (by eventId), or undefined when it never arrived. */
export async function inboxVerdictOf(
  db: Knex,
  eventId: string,
): Promise<{ outcome: string; reason: string | null } | undefined> {
  return db('inbox')
    .where({ event_id: eventId })
    .first<{ outcome: string; reason: string | null } | undefined>('outcome', 'reason');
}

/** The inbox's outcome under a dedupe key (`settlement:[...]`, `payment:[...]`), or undefined. */
export async function inboxOutcomeOf(db: Knex, dedupeKey: string): Promise<string | undefined> {
  const row = await db('inbox')
    .where({ dedupe_key: dedupeKey })
    .first<{ outcome: string } | undefined>('outcome');
  return row?.outcome;
}

/** The balance of one account by its code, in minor units ('0' when it has no entries). */
export async function accountTotal(db: Knex, code: string): Promise<string> {
  const { rows } = await db.raw<{ rows: { total: string }[] }>(
    `SELECT coalesce(sum(e.amount_minor), 0)::text AS total
     FROM ledger_entries e JOIN accounts a USING (account_id) WHERE a.code = ?`,
    [code],
  );
  return rows[0]!.total;
}
