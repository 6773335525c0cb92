/**
 * The database floor's rows, decided before the clock starts: the planned
 * events are run, in stream order, through the worker's own plan
 * (src/pipeline/slice-plan.ts, each a slice of one) on state kept in memory,
 * so the floor writes the very rows the worker would
 * (inbox, orders, milestones, accounts, ledger transactions and entries with
 * running balances, payments, releases, outbox) without reading anything
 * back. What remains to time is the database's own cost of taking them.
 */
import { chainGenesis, chainHash, chainKey } from '../ledger/chain';
import { consumers } from '../../consumers';
import { accountCode, type AccountRef, type Decision, type Order } from '../domain/escrow';
import { defaultFeePolicy } from '../domain/fees';
import { inboxKeyOf } from '../pipeline/inbox-key';
import { type OutboxRow, outboxRows } from '../pipeline/outbox';
import { type PaymentRow, paymentRow } from '../pipeline/payments';
import { emptySliceState, type SliceState } from '../pipeline/slice';
import { SlicePlan } from '../pipeline/slice-plan';
import type { MilestoneChange } from '../store/milestone-changes';
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
  readonly milestones: readonly MilestoneChange[];
  readonly newAccounts: readonly AccountState[];
  readonly transactions: readonly {
    id: number;
    draft: Decision['transactions'][number];
    entries: EntryRow[];
    /** The ledger hash chain's link, as the worker computes it (src/ledger/chain.ts). */
    previousHash: string;
    hash: string;
  }[];
  readonly payment: PaymentRow | null;
  readonly outbox: readonly OutboxRow[];
}

const handlers = new Map(consumers.map((handler) => [handler.topic, handler]));

export class FloorModel {
  /** What the pipeline's plan decides on, carried from one event to the next. */
  private readonly state: SliceState;
  private readonly accounts = new Map<string, AccountState>();
  private nextTransactionId = 1;
  /** Touched accounts, for the balance update at the end of each batch. */
  readonly touched = new Set<AccountState>();
  /** Each order's hash-chain head: the last hash and the chain's length. */
  readonly chainHeads = new Map<string, { hash: string; length: number }>();

  constructor(
    feeRate: string,
    private readonly topicPrefix: string,
  ) {
    this.state = emptySliceState(new Date(0), defaultFeePolicy(feeRate));
  }

  /** Plans the event as the worker would (a slice of one, slice-plan.ts), and books its ledger rows. */
  apply(event: PlannedEvent, now: Date): FloorEvent {
    const parsed = handlers.get(event.message.topic)!.parse(event.message.value);
    if (!parsed.ok)
      throw new Error(`planned event ${event.message.eventId} is invalid: ${parsed.reason}`);
    const { command } = parsed;
    const { key, hash } = inboxKeyOf(command);
    const base = { eventId: command.eventId, topic: this.topicPrefix + event.message.topic };
    const inbound = {
      topic: event.message.topic,
      partition: 0,
      offset: null,
      occurredAt: now,
      command,
    };
    const plan = new SlicePlan({ ...this.state, now });
    const [result] = plan.planAll([{ event: inbound, key, hash }]);
    if (result!.verdict === 'DUPLICATE') {
      // A retried callback: the key is in the inbox already, and nothing else happens.
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
    // The benchmark's stream opens every order before its other events: nothing is kept or replayed.
    if (plan.decided.length !== 1 || plan.keptRows.length > 0) {
      throw new Error(
        `planned event ${command.eventId} was kept or replayed others; the floor writes neither`,
      );
    }
    const { decision } = plan.decided[0]!;
    const inboxRow = [...plan.inbox.values()][0]!;

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
      const id = this.nextTransactionId++;
      const key = chainKey(draft.orderId);
      const previousHash = this.chainHeads.get(key)?.hash ?? chainGenesis;
      const hash = chainHash(previousHash, {
        transactionId: String(id),
        kind: draft.kind,
        orderId: draft.orderId,
        milestoneId: draft.milestoneId,
        causeEventId: base.eventId,
        causeTopic: base.topic,
        correctsTransactionId: null,
        memo: JSON.parse(JSON.stringify(draft.memo)) as unknown,
        createdAt: chainTimestamp(now),
        entries: entries.map((entry) => ({
          accountId: String(entry.accountId),
          currency: entry.currency,
          amountMinor: entry.amount.toString(),
          balanceAfterMinor: entry.balanceAfter?.toString() ?? null,
          accountVersion: entry.version?.toString() ?? null,
        })),
      });
      this.chainHeads.set(key, { hash, length: (this.chainHeads.get(key)?.length ?? 0) + 1 });
      return { id, draft, entries, previousHash, hash };
    });
    const transactionIds = transactions.map((t) => String(t.id));
    const payment =
      command.type === 'PAYMENT_CONFIRMED' && plan.decided[0]!.conflict === undefined
        ? paymentRow(command, decision, transactionIds, hash, { confirmedAt: now, now })
        : null;
    const outbox = outboxRows(decision.outcomes, {
      eventId: command.eventId,
      transactionIds,
      now,
      topicPrefix: this.topicPrefix,
    });
    return {
      ...base,
      inbox: {
        key: inboxRow.dedupe_key,
        hash,
        outcome: inboxRow.outcome,
        reason: inboxRow.reason,
      },
      newOrder: plan.opened.get(command.orderId)?.order ?? null,
      milestones: [...plan.milestoneChanges.values()],
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

/** A moment as the hash chain hashes created_at: UTC, to the microsecond. */
export const chainTimestamp = (moment: Date) => moment.toISOString().replace('Z', '000Z');
