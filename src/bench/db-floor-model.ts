/**
 * The database floor's rows, decided before the clock starts: the planned
 * events are run, in stream order, through the worker's own plan
 * (src/pipeline/slice-plan.ts, each a slice of one) on state kept in memory,
 * so the floor writes the very rows the worker would
 * (inbox, orders, milestones, accounts, ledger transactions and entries with
 * running balances, payments, releases, outbox, payout and refund requests,
 * their settlements, chargebacks) without reading anything back. What
 * remains to time is the database's own cost of taking them.
 *
 * Settlements: each payout or refund an event asks for is recorded as the
 * worker's write records it (its disbursements row, which a later slice's
 * load reads back as the state a settlement is decided on), and answered
 * right after the event with the plan's answer for that request, built from
 * the floor's own outcome as the bench builds it from the worker's
 * (settlement-plan.ts). The floor applies the events in stream order, so its
 * settlements are those of the requests the events cause in order.
 */
import { chainGenesis, chainHash, chainKey } from '../ledger/chain';
import { consumers } from '../../consumers';
import { accountCode, type AccountRef } from '../domain/escrow';
import { defaultFeePolicy } from '../domain/fees';
import type { InboundMessage } from '../demo/inbound-events';
import { inboxKeyOf } from '../pipeline/inbox-key';
import { outboxRows } from '../pipeline/outbox';
import { paymentRow } from '../pipeline/payments';
import { emptySliceState, type SliceState } from '../pipeline/slice';
import { SlicePlan } from '../pipeline/slice-plan';
import type { PlannedEvent } from './order-plan';
import { answersTo, chargebackWrites, requestedIn } from './db-floor-settlements';
import type { SettlementAnswer } from './settlement-plan';
import type { AccountState, FloorEvent } from './floor-rows';

export type { AccountState, EntryRow, FloorEvent } from './floor-rows';

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

  private readonly answered = new Set<string>();

  constructor(
    feeRate: string,
    private readonly topicPrefix: string,
    private readonly answers: ReadonlyMap<string, SettlementAnswer> = new Map(),
  ) {
    this.state = emptySliceState(new Date(0), defaultFeePolicy(feeRate));
  }

  /** The event, then the settlement of each payout and refund it asked for. */
  applyAnswered(event: PlannedEvent, now: Date): FloorEvent[] {
    const applied = [this.apply(event.message, now, false)];
    for (let index = 0; index < applied.length; index++) {
      for (const settlement of answersTo(applied[index]!.outbox, this.answers, this.answered))
        applied.push(this.apply(settlement, now, true));
    }
    return applied;
  }

  /** Plans the event as the worker would (a slice of one, slice-plan.ts), and books its ledger rows. */
  apply(message: InboundMessage, now: Date, answering = false): FloorEvent {
    const event = { message };
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
        disbursements: [],
        settled: [],
        chargebacks: [],
        answering,
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
        memo: draft.memo,
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
    const disbursements = requestedIn(outbox, now, this.state.disbursements);
    const chargebacks = chargebackWrites(plan, command, transactions);
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
      disbursements,
      settled: plan.settled,
      chargebacks,
      answering,
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
