/**
 * The views the operations API answers with, each bound to the database: one
 * place that says which view answers which question, used by the worker and
 * by the tests that call the API.
 */
import type { Knex } from 'knex';
import { listRecordedRuns } from '../gateway-reconciliation/record';
import { attentionView } from './attention-view';
import { liquidityView } from './liquidity-view';
import { orderAsOfView } from './order-as-of-view';
import { orderTimelineView } from './order-timeline-view';
import { orderLedger, orderView } from './order-view';
import { providerView } from './provider-view';
import type { ViewResult } from './view-support';

const known = <T>(view: T | undefined, absent: string): ViewResult<T> =>
  view === undefined ? { absent } : { view };

export function operationsViews(db: Knex) {
  return {
    /** The order now (its milestones' rows), or its balances at asOf (the ledger). */
    order: async (orderId: string, asOf: string | undefined) =>
      asOf === undefined
        ? known(await orderView(db, orderId), `no order ${JSON.stringify(orderId)}`)
        : orderAsOfView(db, orderId, asOf),
    ledger: async (orderId: string) =>
      known(await orderLedger(db, orderId), `no order ${JSON.stringify(orderId)}`),
    provider: (providerId: string, options: { asOf?: string; payoutsLimit: number }) =>
      providerView(db, providerId, options),
    liquidity: (asOf: string | undefined) => liquidityView(db, asOf),
    /** `reconcile-gateway --record` runs, newest first. */
    gatewayRuns: (options: { gateway?: string; limit: number }) => listRecordedRuns(db, options),
    /** The console's: an order's events, transactions, outcomes and settlements, oldest first. */
    timeline: (orderId: string, now: Date) => orderTimelineView(db, orderId, now),
    /** The console's: what needs a person (stuck funds, open requests, waiting events, ...). */
    attention: (now: Date, limit: number) => attentionView(db, now, limit),
  };
}
