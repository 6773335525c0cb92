/**
 * GET /attention[?limit=N]: what needs a person, on one snapshot of the
 * database — funds held in escrow by age, payouts and refunds unsettled or
 * failed, receivables outstanding, events and payments waiting for their
 * order, and the last recorded gateway reconciliation with its unexplained
 * differences. Each list holds the oldest `limit` items (default 20) and says
 * how many there are in all.
 *
 * Not here, because they are not in the database: dead letters (in Kafka,
 * GET /attention/dead-letters) and the internal reconciliation, which the
 * worker does not store (GET /reconciliation runs it; GET
 * /reconciliation/last answers the last run this process made).
 */
import type { Knex } from 'knex';
import { type GatewayReconciliation, gatewayReconciliation } from './attention-gateway';
import {
  type OpenRequests,
  openRequests,
  type OutstandingReceivable,
  outstandingReceivables,
} from './attention-money-owed';
import { type CurrencyAmount, type StuckFunds, stuckFunds } from './attention-stuck-funds';
import {
  type Waiting,
  type WaitingEvent,
  type WaitingPayment,
  waitingEvents,
  waitingPayments,
} from './attention-waiting';
import { onOneSnapshot } from './view-support';

export interface AttentionView {
  /** The moment ages are measured from (the server's clock, UTC). */
  generatedAt: string;
  /** The most items any one list holds. */
  limit: number;
  stuckFunds: StuckFunds;
  requests: OpenRequests;
  receivables: { owed: CurrencyAmount[]; providers: OutstandingReceivable[] };
  keptEvents: Waiting<WaitingEvent>;
  pendingPayments: Waiting<WaitingPayment>;
  gatewayReconciliation: GatewayReconciliation;
}

export const attentionLimitDefault = 20;
export const attentionLimitMax = 500;

export function attentionView(db: Knex, now: Date, limit: number): Promise<AttentionView> {
  return onOneSnapshot(db, async (trx) => {
    const receivables = await outstandingReceivables(trx, limit);
    return {
      generatedAt: now.toISOString(),
      limit,
      stuckFunds: await stuckFunds(trx, now, limit),
      requests: await openRequests(trx, limit),
      receivables: { owed: receivables.owed, providers: receivables.receivables },
      keptEvents: await waitingEvents(trx, limit),
      pendingPayments: await waitingPayments(trx, limit),
      gatewayReconciliation: await gatewayReconciliation(trx, limit),
    };
  });
}
