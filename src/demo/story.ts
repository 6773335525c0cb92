/**
 * The marketplace story the demo tells: a kitchen renovation in three
 * milestones, followed from a deposit that arrives before its order to a
 * dispute settled by a split, then the money loop closing: a payout paid, a
 * refund failed and asked for again, and a chargeback after payout recovered
 * from the provider's next order. Each step is what the upstream services send,
 * said in business terms, with why the worker answers as it does (the rules
 * are CONTRACT.md's; the worker, not these files, applies them).
 */
import type { StoryCast, StoryStep } from './story-cast';
import { chargebackSteps } from './story-chargeback';
import { fundingSteps } from './story-funding';
import { payoutSteps } from './story-payouts';
import { settlementSteps } from './story-settlement';

export { storyCast, type StoryCast, type StoryStep } from './story-cast';

export function storySteps(cast: StoryCast): StoryStep[] {
  return [
    ...fundingSteps(cast),
    ...settlementSteps(cast),
    ...payoutSteps(cast),
    ...chargebackSteps(cast),
  ];
}
