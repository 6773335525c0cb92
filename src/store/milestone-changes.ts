/**
 * A milestone's change within a slice, as the plan records it and the write
 * guards it: its last state, under the version it was first read at. Pure:
 * the plan (src/pipeline/slice-plan.ts) builds these without I/O.
 */
import type { Milestone } from '../domain/escrow';

/** A milestone as a batch left it, with the version it was read at (null: created by the batch). */
export interface MilestoneChange {
  readonly milestone: Milestone;
  readonly readVersion: number | null;
}

export const milestoneKey = (orderId: string, milestoneId: string) =>
  `${orderId}\u0000${milestoneId}`;

/**
 * Records a milestone's new state in `changes`, one entry per milestone: its
 * latest state, under the version it was first read at (`readVersion` counts
 * only for the first change).
 */
export function noteMilestoneChange(
  changes: Map<string, MilestoneChange>,
  milestone: Milestone,
  readVersion: number | null,
): void {
  const key = milestoneKey(milestone.orderId, milestone.milestoneId);
  const first = changes.get(key);
  changes.set(key, { milestone, readVersion: first ? first.readVersion : readVersion });
}
