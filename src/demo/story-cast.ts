/**
 * The cast and vocabulary of the demo's story: one kitchen renovation order,
 * its buyer and provider, its three milestones, and what a step is. Ids carry
 * the run's id, so a shared database or topic prefix never sees one twice.
 */
import type { OrderView } from '../views/order-view';
import type { InboundMessage } from './inbound-events';

export interface StoryStep {
  readonly title: string;
  /** What happens, in business terms. */
  readonly happens: string;
  /** Why the worker does what it does. */
  readonly because: string;
  /** What the upstream services send; the view is the order as it stands before the step. */
  messages(view: OrderView | undefined): InboundMessage[];
  /** The inbox verdict the story expects; anything else stops the demo, as the narration would be wrong. */
  readonly verdict: 'APPLIED' | 'KEPT' | 'DUPLICATE';
  /** The worker acts on its own (the inspection timer), so it is waited for in the database. */
  readonly done?: { what: string; check(view: OrderView | undefined): boolean };
}

export interface StoryCast {
  readonly orderId: string;
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
/** Days in real life; two seconds here, so the demo can show the clock and stay short. */
export const inspectionSeconds = 2;

export function storyCast(runId: string, feeRate: string): StoryCast {
  return {
    orderId: `kitchen-${runId}`,
    buyerId: 'buyer-maria',
    providerId: 'provider-oak-and-tile',
    currency: 'USD',
    feeRate,
    event: (name) => `${runId}-${name}`,
    reference: (name) => `${name}_${runId}`,
  };
}
