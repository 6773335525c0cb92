/**
 * The database floor's rows, decided before the clock starts: the planned
 * events are run, in stream order, through the real domain `decide` against
 * state kept in memory, so the floor writes the very rows the worker would
 * (inbox, orders, milestones, accounts, ledger transactions and entries with
 * running balances, payments, releases, outbox) without reading anything
 * back. What remains to time is the database's own cost of taking them.
 */
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
import { money } from '../domain/money';
import { inboxKeyOf } from '../pipeline/inbox-key';
import { type OutboxRow, outboxRows } from '../pipeline/outbox';
import { type PaymentRow, paymentRow } from '../pipeline/payments';
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
  readonly payment: PaymentRow | null;
  readonly outbox: readonly OutboxRow[];
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

    let payment: PaymentRow | null = null;
    if (command.type === 'PAYMENT_CONFIRMED') {
      payment = paymentRow(command, decision, transactionIds, hash, { confirmedAt: now, now });
      if (payment?.status === 'APPLIED' && command.milestoneId !== null) {
        const references = this.fundedBy.get(command.orderId) ?? {};
        (references[command.milestoneId] ??= []).push(command.gatewayReference);
        this.fundedBy.set(command.orderId, references);
      }
    }
    const outbox = outboxRows(decision.outcomes, {
      eventId: command.eventId,
      transactionIds,
      now,
      topicPrefix: this.topicPrefix,
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
}
