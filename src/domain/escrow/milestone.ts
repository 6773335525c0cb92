/**
 * Milestone bookkeeping shared by every rule: how much is still needed, which
 * state the totals put it in, and the amounts an outcome reports.
 */
import {
  add,
  compare,
  formatAmount,
  isPositive,
  isZero,
  type Money,
  subtract,
  zero,
} from '../money';
import type { Milestone, MilestoneState } from './types';
import { terminalStates } from './types';

export const isTerminal = (milestone: Milestone) => terminalStates.has(milestone.state);

/** Funds the milestone holds or has paid out toward its current amount. */
export const committed = (m: Milestone): Money => add(add(m.held, m.disputed), m.released);

/** What the milestone still needs before it is fully funded (never negative). */
export function stillNeeded(m: Milestone): Money {
  const needed = subtract(m.amount, committed(m));
  return isPositive(needed) ? needed : zero(m.currency);
}

export const isFullyFunded = (m: Milestone) => compare(committed(m), m.amount) >= 0;

/**
 * The state the totals and flags put a non-terminal milestone in. Reached with
 * funds in hold is AWAITING_RELEASE: the inspection period is running or a
 * top-up is awaited; reached with nothing held waits for funding like any other.
 */
export function derivedState(m: Milestone): MilestoneState {
  if (isTerminal(m)) return m.state;
  if (m.disputeId !== null) return 'DISPUTED';
  if (m.reached && isPositive(m.held)) return 'AWAITING_RELEASE';
  if (isZero(m.held)) return 'PENDING_FUNDING';
  return isFullyFunded(m) ? 'FUNDED' : 'PARTIALLY_FUNDED';
}

/**
 * Applies changes and re-derives the state unless one is forced. The version is
 * not touched here: a decision counts one version per milestone it changes,
 * however many steps it takes (see DecisionBuilder.touch).
 */
export function evolve(
  before: Milestone,
  changes: Partial<Milestone>,
  forcedState?: MilestoneState,
): Milestone {
  const next = { ...before, ...changes };
  return { ...next, state: forcedState ?? derivedState(next) };
}

/** The state and amounts every escrow.events.v1 outcome carries. */
export function milestoneAmounts(m: Milestone): Record<string, string> {
  return {
    state: m.state,
    currency: m.currency,
    originalAmount: formatAmount(m.originalAmount),
    amount: formatAmount(m.amount),
    funded: formatAmount(m.funded),
    held: formatAmount(m.held),
    disputed: formatAmount(m.disputed),
    released: formatAmount(m.released),
    fees: formatAmount(m.fees),
    refunded: formatAmount(m.refunded),
  };
}
