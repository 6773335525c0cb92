/**
 * The cast and vocabulary of the demo's story: a kitchen renovation order,
 * its buyer and provider, its three milestones, the provider's next order (a
 * bathroom, whose release recovers a chargeback), and what a step is. Ids
 * carry the run's id, so a shared database or topic prefix never sees one twice.
 */
import type { Config } from '../config';
import type { OrderView } from '../views/order-view';
import type { InboundMessage } from './inbound-events';
import type { PublishedOutcome } from './outcome-listener';

/** What an operator's command printed, and its exit code (0 when it did what was asked). */
export interface OperatorRun {
  readonly command: string;
  readonly exitCode: number;
  readonly output: readonly string[];
}

export interface StoryStep {
  readonly title: string;
  /** What happens, in business terms. */
  readonly happens: string;
  /** Why the worker does what it does. */
  readonly because: string;
  /** The order the step is about, and shows; the kitchen when absent. */
  readonly orderId?: string;
  /**
   * What the upstream services send; the view is the step's order as it stands
   * before the step, `published` every outcome shown so far (the settlements
   * name the requests they settle by their outcomeId).
   */
  messages(view: OrderView | undefined, published: readonly PublishedOutcome[]): InboundMessage[];
  /** An operator's command the step runs instead of sending messages, as the operator would. */
  readonly operator?: (
    config: Config,
    published: readonly PublishedOutcome[],
  ) => Promise<OperatorRun>;
  /** Show the provider's figures (GET /providers/{id}) after the step. */
  readonly showProvider?: boolean;
  /** The inbox verdict the story expects; anything else stops the demo, as the narration would be wrong. */
  readonly verdict: 'APPLIED' | 'KEPT' | 'DUPLICATE';
  /** The worker acts on its own (the inspection timer), so it is waited for in the database. */
  readonly done?: { what: string; check(view: OrderView | undefined): boolean };
}

export interface StoryCast {
  readonly orderId: string;
  /** The provider's next order, released after the chargeback. */
  readonly nextOrderId: string;
  readonly buyerId: string;
  readonly providerId: string;
  readonly currency: string;
  /** PLATFORM_FEE_RATE, for the narration. */
  readonly feeRate: string;
  /** An eventId of this run, e.g. "3fa2c1-deposit". */
  readonly event: (name: string) => string;
  /** A gateway reference of this run, e.g. "ch_deposit_3fa2c1". */
  readonly reference: (name: string) => string;
}

export const design = 'm1-design';
export const build = 'm2-build';
export const finishing = 'm3-finishing';
/** The next order's only milestone. */
export const tiling = 'm1-tiling';
/** Days in real life; two seconds here, so the demo can show the clock and stay short. */
export const inspectionSeconds = 2;

export function storyCast(runId: string, feeRate: string): StoryCast {
  return {
    orderId: `kitchen-${runId}`,
    nextOrderId: `bathroom-${runId}`,
    buyerId: 'buyer-maria',
    providerId: 'provider-oak-and-tile',
    currency: 'USD',
    feeRate,
    event: (name) => `${runId}-${name}`,
    reference: (name) => `${name}_${runId}`,
  };
}
