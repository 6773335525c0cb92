/**
 * A milestone is reached when the upstream condition satisfies its release
 * condition. The inspection clock starts then; a finalAmount lower than what
 * is held refunds the rest at once (PARTIAL_COMPLETION), a higher one waits
 * for a top-up. The timer's INSPECTION_ELAPSED re-checks the release.
 */
import { formatAmount } from '../money';
import type { InspectionElapsed, MarkReached } from './commands';
import { type DecisionContext, isRejection, parseEventAmount } from './context';
import { aboutMilestone, type DecisionBuilder } from './decision-builder';
import { evolve } from './milestone';
import { refundExcessHeld, refundFinalTopUpExcess } from './partial-completion';
import { releaseIfDue } from './release';
import type { Decision, Milestone, Order } from './types';

export function markReached(
  command: MarkReached,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  const about = aboutMilestone(order, original);
  if (original.reached) {
    return builder.rejected(
      'INVALID_STATE',
      `milestone ${original.milestoneId} was already reached`,
      about,
    );
  }
  const condition = original.releaseCondition;
  if (condition !== 'ANY' && command.condition !== condition) {
    return builder.rejected(
      'CONDITION_NOT_MET',
      `milestone ${original.milestoneId} is released on ${condition}, not on ${command.condition}; ` +
        `send condition ${condition}`,
      about,
    );
  }
  let finalAmount = null;
  if (command.finalAmount !== undefined && command.finalAmount !== null) {
    const parsed = parseEventAmount(command.finalAmount, original.currency, 'finalAmount');
    if (isRejection(parsed)) return builder.rejected(parsed.reason, parsed.message, about);
    finalAmount = parsed;
  }

  const periodMs = original.inspectionPeriodSeconds * 1000;
  const frozen = original.disputeId !== null;
  let milestone = evolve(builder.touch(original), {
    reached: true,
    reachedCondition: command.condition,
    finalAmount,
    amount: finalAmount ?? original.amount,
    // A dispute pauses the clock: it starts, with its full length, when withdrawn.
    inspectionDeadline: frozen ? null : new Date(context.now.getTime() + periodMs),
    inspectionRemainingMs: frozen ? periodMs : null,
  });
  builder.event('MILESTONE_REACHED', milestone, null, {
    condition: command.condition,
    finalAmount: finalAmount === null ? null : formatAmount(finalAmount),
    inspectionDeadline: milestone.inspectionDeadline?.toISOString() ?? null,
  });

  // A FINAL top-up held before the reach beyond what is needed goes back as
  // OVERPAYMENT; then, lower than held, the rest as PARTIAL_COMPLETION (both after
  // the dispute, when one is open). Either order of reach and top-up ends alike.
  milestone = refundFinalTopUpExcess(builder, context, order, milestone, original.amount);
  milestone = refundExcessHeld(builder, context, order, milestone);
  builder.save(releaseIfDue(builder, context, order, milestone));
  return builder.applied();
}

export function inspectionElapsed(
  _command: InspectionElapsed,
  context: DecisionContext,
  builder: DecisionBuilder,
  order: Order,
  original: Milestone,
): Decision {
  // A timer that fires twice, or after a dispute or refund changed things, finds
  // nothing to do: the release rule decides, not the timer.
  const released = releaseIfDue(builder, context, order, builder.touch(original));
  if (released.state !== 'RELEASED')
    return { status: 'UNCHANGED', milestones: [], transactions: [], outcomes: [] };
  builder.save(released);
  return builder.applied();
}
