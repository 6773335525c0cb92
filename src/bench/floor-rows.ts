/**
 * The rows the database floor writes for one event, as the worker would
 * write them: what FloorModel (db-floor-model.ts) plans and db-floor.ts and
 * db-floor-settlements.ts write. A file of its own so the two sides share
 * the shapes without importing each other.
 */
import type { AccountRef, Decision, Order } from '../domain/escrow';
import type { OutboxRow } from '../pipeline/outbox';
import type { PaymentRow } from '../pipeline/payments';
import type { ChargebackWrite } from '../store/chargebacks';
import type { DisbursementRow, SettledRow } from '../store/disbursements';
import type { MilestoneChange } from '../store/milestone-changes';

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
  /** The payouts and refunds it asked for. */
  readonly disbursements: readonly DisbursementRow[];
  /** The requests it settled. */
  readonly settled: readonly SettledRow[];
  /** The chargebacks it created or changed, with its event and transaction ids. */
  readonly chargebacks: readonly ChargebackWrite[];
  /** A settlement of a payout or refund (sent by the bench in answer to the request). */
  readonly answering: boolean;
}
