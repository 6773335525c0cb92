/**
 * Maps orders and milestones between their rows (BIGINT minor units, which pg
 * returns as strings) and the domain's values (Money with bigint minor units).
 */
import type { Milestone, MilestoneState, Order, ReleaseCondition } from '../domain/escrow';
import { type Money, money } from '../domain/money';

export interface OrderRow {
  order_id: string;
  buyer_id: string;
  provider_id: string;
  currency: string;
  state: 'OPEN' | 'CANCELLED';
}

export interface MilestoneRow {
  order_id: string;
  milestone_id: string;
  sequence: number;
  currency: string;
  original_amount_minor: string;
  amount_minor: string;
  release_condition: ReleaseCondition;
  inspection_period_seconds: number;
  state: MilestoneState;
  version: number;
  funded_minor: string;
  held_minor: string;
  disputed_minor: string;
  released_minor: string;
  fees_minor: string;
  refunded_minor: string;
  reached: boolean;
  reached_condition: string | null;
  final_amount_minor: string | null;
  inspection_deadline: Date | null;
  inspection_remaining_ms: string | null;
  dispute_id: string | null;
}

export const toOrder = (row: OrderRow): Order => ({
  orderId: row.order_id,
  buyerId: row.buyer_id,
  providerId: row.provider_id,
  currency: row.currency,
  state: row.state,
});

export const fromOrder = (order: Order) => ({
  order_id: order.orderId,
  buyer_id: order.buyerId,
  provider_id: order.providerId,
  currency: order.currency,
  state: order.state,
});

export function toMilestone(row: MilestoneRow): Milestone {
  const amount = (minor: string): Money => money(row.currency, BigInt(minor));
  return {
    orderId: row.order_id,
    milestoneId: row.milestone_id,
    sequence: row.sequence,
    currency: row.currency,
    originalAmount: amount(row.original_amount_minor),
    amount: amount(row.amount_minor),
    releaseCondition: row.release_condition,
    inspectionPeriodSeconds: row.inspection_period_seconds,
    state: row.state,
    version: row.version,
    funded: amount(row.funded_minor),
    held: amount(row.held_minor),
    disputed: amount(row.disputed_minor),
    released: amount(row.released_minor),
    fees: amount(row.fees_minor),
    refunded: amount(row.refunded_minor),
    reached: row.reached,
    reachedCondition: row.reached_condition,
    finalAmount: row.final_amount_minor === null ? null : amount(row.final_amount_minor),
    inspectionDeadline: row.inspection_deadline,
    inspectionRemainingMs:
      row.inspection_remaining_ms === null ? null : Number(row.inspection_remaining_ms),
    disputeId: row.dispute_id,
  };
}

/**
 * A milestone's row as the writes send it, with the version it was read at
 * (null: new). One literal: spreading the columns into a second object took
 * V8's slow path and copied every milestone written once more.
 */
export function milestoneRow(
  m: Milestone,
  readVersion: number | null,
): MilestoneRow & { read_version: number | null } {
  return {
    order_id: m.orderId,
    milestone_id: m.milestoneId,
    read_version: readVersion,
    sequence: m.sequence,
    currency: m.currency,
    original_amount_minor: m.originalAmount.minor.toString(),
    amount_minor: m.amount.minor.toString(),
    release_condition: m.releaseCondition,
    inspection_period_seconds: m.inspectionPeriodSeconds,
    state: m.state,
    version: m.version,
    funded_minor: m.funded.minor.toString(),
    held_minor: m.held.minor.toString(),
    disputed_minor: m.disputed.minor.toString(),
    released_minor: m.released.minor.toString(),
    fees_minor: m.fees.minor.toString(),
    refunded_minor: m.refunded.minor.toString(),
    reached: m.reached,
    reached_condition: m.reachedCondition,
    final_amount_minor: m.finalAmount?.minor.toString() ?? null,
    inspection_deadline: m.inspectionDeadline,
    inspection_remaining_ms: m.inspectionRemainingMs?.toString() ?? null,
    dispute_id: m.disputeId,
  };
}
