/**
 * Read models for people: an order with each milestone's state and balances
 * (GET /orders/{orderId}, the demo's tables), and an order's ledger
 * transactions with their entries (GET /orders/{orderId}/ledger). Amounts are
 * major-unit strings in the order's currency, as on the wire.
 */
import type { Knex } from 'knex';
import { formatAmount, money } from '../domain/money';
import type { MilestoneRow, OrderRow } from '../store/order-rows';

export interface MilestoneView {
  milestoneId: string;
  sequence: number;
  state: string;
  version: number;
  /** What it is worth now; `originalAmount` is what the order opened with. */
  amount: string;
  originalAmount: string;
  funded: string;
  held: string;
  disputed: string;
  /** Gross: the provider's net plus the platform's fee. */
  released: string;
  fees: string;
  refunded: string;
  reached: boolean;
  inspectionDeadline: string | null;
  disputeId: string | null;
}

export interface OrderView {
  orderId: string;
  buyerId: string;
  providerId: string;
  currency: string;
  state: string;
  milestones: MilestoneView[];
}

export async function orderView(db: Knex, orderId: string): Promise<OrderView | undefined> {
  const order = await db<OrderRow>('orders').where('order_id', orderId).first();
  if (!order) return undefined;
  const rows = await db<MilestoneRow>('milestones')
    .where('order_id', orderId)
    .orderBy([{ column: 'sequence' }, { column: 'milestone_id' }]);
  const text = (minor: string) => formatAmount(money(order.currency, BigInt(minor)));
  return {
    orderId: order.order_id,
    buyerId: order.buyer_id,
    providerId: order.provider_id,
    currency: order.currency,
    state: order.state,
    milestones: rows.map((row) => ({
      milestoneId: row.milestone_id,
      sequence: row.sequence,
      state: row.state,
      version: row.version,
      amount: text(row.amount_minor),
      originalAmount: text(row.original_amount_minor),
      funded: text(row.funded_minor),
      held: text(row.held_minor),
      disputed: text(row.disputed_minor),
      released: text(row.released_minor),
      fees: text(row.fees_minor),
      refunded: text(row.refunded_minor),
      reached: row.reached,
      inspectionDeadline: row.inspection_deadline?.toISOString() ?? null,
      disputeId: row.dispute_id,
    })),
  };
}

export interface LedgerEntryView {
  entryId: string;
  account: string;
  accountKind: string;
  currency: string;
  /** Signed: positive adds to what the account holds. */
  amount: string;
  /** Null for accounts without a running balance (clearing, revenue). */
  balanceAfter: string | null;
}

export interface LedgerTransactionView {
  transactionId: string;
  kind: string;
  milestoneId: string | null;
  causeEventId: string;
  causeTopic: string;
  correctsTransactionId: string | null;
  memo: unknown;
  createdAt: string;
  entries: LedgerEntryView[];
}

interface LedgerRow {
  transaction_id: string;
  kind: string;
  milestone_id: string | null;
  cause_event_id: string;
  cause_topic: string;
  corrects_transaction_id: string | null;
  memo: unknown;
  created_at: Date;
  entry_id: string;
  code: string;
  account_kind: string;
  currency: string;
  amount_minor: string;
  balance_after_minor: string | null;
}

/** The order's ledger transactions in posting order, or undefined when the order is unknown. */
export async function orderLedger(
  db: Knex,
  orderId: string,
): Promise<{ orderId: string; transactions: LedgerTransactionView[] } | undefined> {
  const order = await db<OrderRow>('orders').where('order_id', orderId).first('order_id');
  if (!order) return undefined;
  const rows: LedgerRow[] = await db('ledger_transactions as t')
    .join('ledger_entries as e', 'e.transaction_id', 't.transaction_id')
    .join('accounts as a', 'a.account_id', 'e.account_id')
    .where('t.order_id', orderId)
    .orderBy([{ column: 't.transaction_id' }, { column: 'e.entry_id' }])
    .select(
      't.transaction_id',
      't.kind',
      't.milestone_id',
      't.cause_event_id',
      't.cause_topic',
      't.corrects_transaction_id',
      't.memo',
      't.created_at',
      'e.entry_id',
      'a.code',
      'a.kind as account_kind',
      'e.currency',
      'e.amount_minor',
      'e.balance_after_minor',
    );

  const transactions: LedgerTransactionView[] = [];
  for (const row of rows) {
    let current = transactions.at(-1);
    if (current?.transactionId !== row.transaction_id) {
      current = {
        transactionId: row.transaction_id,
        kind: row.kind,
        milestoneId: row.milestone_id,
        causeEventId: row.cause_event_id,
        causeTopic: row.cause_topic,
        correctsTransactionId: row.corrects_transaction_id,
        memo: row.memo,
        createdAt: row.created_at.toISOString(),
        entries: [],
      };
      transactions.push(current);
    }
    const amount = (minor: string) => formatAmount(money(row.currency, BigInt(minor)));
    current.entries.push({
      entryId: row.entry_id,
      account: row.code,
      accountKind: row.account_kind,
      currency: row.currency,
      amount: amount(row.amount_minor),
      balanceAfter: row.balance_after_minor === null ? null : amount(row.balance_after_minor),
    });
  }
  return { orderId, transactions };
}
