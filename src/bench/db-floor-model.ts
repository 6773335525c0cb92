/**
 * The database floor's rows, decided before the clock starts: the planned
 * events are run, in stream order, through the real domain `decide` against
 * state kept in memory, so the floor writes the very rows the worker would
 * (inbox, orders, milestones, accounts, ledger transactions and entries with
 * running balances, payments, releases, outbox) without reading anything
 * back. What remains to time is the database's own cost of taking them.
 */
import { randomUUID } from 'node:crypto';
import { consumers } from '../../consumers';
import {
  accountCode,
  type AccountRef,
  type Decision,
  decide,
  type Milestone,
  type Order,
} from '../domain/escrow';
import { defaultFeePolicy } from '../domain/fees';
import { money, parseAmount } from '../domain/money';
import { inboxKeyOf } from '../pipeline/inbox-key';
import { outcomeRecord } from '../pipeline/outbox';
import type { PlannedEvent } from './order-plan';

export interface AccountState {
  readonly id: number;
  readonly ref: AccountRef;
  readonly code: string;
  /** Only escrow, disputed and payable accounts keep a running balance (see the ledger migration). */
  readonly maintained: boolean;
  balance: bigint;
  version: bigint;
}

export interface EntryRow {
  readonly accountId: number;
  readonly currency: string;
  readonly amount: bigint;
  readonly balanceAfter: bigint | null;
  readonly version: bigint | null;
}

export interface FloorEvent {
  readonly eventId: string;
  readonly topic: string;
  readonly inbox: { key: string; hash: string; outcome: string; reason: string | null };
  /** Set when the event opened an order. */
  readonly newOrder: Order | null;
  /** The milestones as the decision left them, with the version each was read at (null: new). */
  readonly milestones: readonly { milestone: Milestone; readVersion: number | null }[];
  readonly newAccounts: readonly AccountState[];
  readonly transactions: readonly {
    id: number;
    draft: Decision['transactions'][number];
    entries: EntryRow[];
  }[];
  readonly payment: Record<string, unknown> | null;
  readonly outbox: readonly Record<string, unknown>[];
}

const handlers = new Map(consumers.map((handler) => [handler.topic, handler]));

export class FloorModel {
  private readonly orders = new Map<string, Order>();
  private readonly milestones = new Map<string, Milestone[]>();
  private readonly inboxKeys = new Set<string>();
  private readonly accounts = new Map<string, AccountState>();
  private readonly volume = new Map<string, bigint>();
  private readonly fundedBy = new Map<string, Record<string, string[]>>();
  private nextTransactionId = 1;
  /** Touched accounts, for the balance update at the end of each batch. */
  readonly touched = new Set<AccountState>();

  constructor(
    private readonly feeRate: string,
    private readonly topicPrefix: string,
  ) {}

  apply(event: PlannedEvent, now: Date): FloorEvent {
    const parsed = handlers.get(event.message.topic)!.parse(event.message.value);
    if (!parsed.ok)
      throw new Error(`planned event ${event.message.eventId} is invalid: ${parsed.reason}`);
    const { command } = parsed;
    const { key, hash } = inboxKeyOf(command);
    const base = { eventId: command.eventId, topic: this.topicPrefix + event.message.topic };
    if (this.inboxKeys.has(key)) {
      // A retried callback: the worker's inbox insert (as UNCHANGED) finds the key; nothing else happens.
      const inbox = { key, hash, outcome: 'UNCHANGED', reason: null };
      return {
        ...base,
        inbox,
        newOrder: null,
        milestones: [],
        newAccounts: [],
        transactions: [],
        payment: null,
        outbox: [],
      };
    }
    this.inboxKeys.add(key);
    const order = this.orders.get(command.orderId) ?? null;
    const read = this.milestones.get(command.orderId) ?? [];
    const policy = defaultFeePolicy(this.feeRate);
    const currency = order?.currency ?? 'USD';
    const decision = decide(command, {
      now,
      order,
      milestones: read,
      feePolicy: policy,
      providerVolume: money(currency, this.volume.get(`${order?.providerId}/${currency}`) ?? 0n),
      fundingReferences: this.fundedBy.get(command.orderId) ?? {},
    });

    if (decision.order) this.orders.set(decision.order.orderId, decision.order);
    const versions = new Map(read.map((m) => [m.milestoneId, m.version]));
    const changed = new Map(decision.milestones.map((m) => [m.milestoneId, m]));
    const after = [...read.map((m) => changed.get(m.milestoneId) ?? m)];
    for (const m of decision.milestones) if (!versions.has(m.milestoneId)) after.push(m);
    this.milestones.set(command.orderId, after);

    const newAccounts: AccountState[] = [];
    const transactions = decision.transactions.map((draft) => {
      const entries = draft.postings.map((posting) => {
        const account = this.account(posting.account, newAccounts);
        if (account.maintained) {
          account.balance += posting.amount.minor;
          account.version += 1n;
          this.touched.add(account);
        }
        return {
          accountId: account.id,
          currency: posting.amount.currency,
          amount: posting.amount.minor,
          balanceAfter: account.maintained ? account.balance : null,
          version: account.maintained ? account.version : null,
        };
      });
      if (draft.release) {
        const volumeKey = `${draft.release.providerId}/${draft.release.gross.currency}`;
        this.volume.set(volumeKey, (this.volume.get(volumeKey) ?? 0n) + draft.release.gross.minor);
      }
      return { id: this.nextTransactionId++, draft, entries };
    });
    const transactionIds = transactions.map((t) => String(t.id));

    let payment: Record<string, unknown> | null = null;
    if (command.type === 'PAYMENT_CONFIRMED') {
      payment = this.paymentRow(command, decision, transactionIds, hash, now);
    }
    const outbox = decision.outcomes.map((draft) => {
      const outcomeId = randomUUID();
      return {
        outcome_id: outcomeId,
        topic: this.topicPrefix + draft.topic,
        message_key: draft.orderId,
        type: draft.type,
        payload: outcomeRecord(draft, outcomeId, {
          eventId: command.eventId,
          transactionIds,
          now,
          topicPrefix: this.topicPrefix,
        }),
        headers: { 'outcome-id': outcomeId, 'cause-event-id': command.eventId },
      };
    });
    return {
      ...base,
      inbox: { key, hash, outcome: decision.status, reason: decision.reason ?? null },
      newOrder: decision.order && !order ? decision.order : null,
      milestones: decision.milestones.map((m) => ({
        milestone: m,
        readVersion: versions.get(m.milestoneId) ?? null,
      })),
      newAccounts,
      transactions,
      payment,
      outbox,
    };
  }

  private account(ref: AccountRef, created: AccountState[]): AccountState {
    const code = accountCode(ref);
    let account = this.accounts.get(code);
    if (!account) {
      const maintained = ref.kind !== 'GATEWAY_CLEARING' && ref.kind !== 'PLATFORM_REVENUE';
      account = { id: this.accounts.size + 1, ref, code, maintained, balance: 0n, version: 0n };
      this.accounts.set(code, account);
      created.push(account);
    }
    return account;
  }

  /** The payments row as the pipeline records it (src/pipeline/payments.ts). */
  private paymentRow(
    command: Extract<Parameters<typeof decide>[0], { type: 'PAYMENT_CONFIRMED' }>,
    decision: Decision,
    transactionIds: string[],
    hash: string,
    now: Date,
  ): Record<string, unknown> {
    const amount = parseAmount(command.amount, command.currency).minor;
    const receivedIn = decision.transactions.findIndex((t) =>
      t.postings.some((p) => p.account.kind === 'GATEWAY_CLEARING'),
    );
    const refunded = decision.transactions
      .filter((t) => t.kind === 'OVERPAYMENT_REFUND' || t.kind === 'CURRENCY_MISMATCH_REFUND')
      .reduce(
        (sum, t) =>
          sum +
          (t.postings.find((p) => p.account.kind === 'BUYER_REFUND_PAYABLE')?.amount.minor ?? 0n),
        0n,
      );
    const status = receivedIn < 0 ? 'PENDING_ORDER' : refunded === amount ? 'REFUNDED' : 'APPLIED';
    if (status === 'APPLIED' && command.milestoneId !== null) {
      const references = this.fundedBy.get(command.orderId) ?? {};
      (references[command.milestoneId] ??= []).push(command.gatewayReference);
      this.fundedBy.set(command.orderId, references);
    }
    const pending = status === 'PENDING_ORDER';
    return {
      gateway: command.gateway,
      gateway_reference: command.gatewayReference,
      event_id: command.eventId,
      order_id: command.orderId,
      milestone_id: command.milestoneId,
      kind: command.kind,
      currency: command.currency,
      amount_minor: amount.toString(),
      confirmed_at: now,
      payload_hash: hash,
      status,
      applied_minor: pending ? '0' : (amount - refunded).toString(),
      refunded_minor: pending ? '0' : refunded.toString(),
      ledger_transaction_id: receivedIn < 0 ? null : transactionIds[receivedIn],
      applied_at: pending ? null : now,
    };
  }
}
