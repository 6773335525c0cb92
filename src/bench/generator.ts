/**
 * The benchmark's workload: many orders, each told causally by planOrder,
 * interleaved into one stream as they would arrive from a busy marketplace,
 * plus retried gateway callbacks (same gateway and reference, a new eventId)
 * making up about 5% of all events, and the settlements of the payouts and
 * refunds the orders' events cause (settlement-plan.ts): those are sent as
 * the worker publishes each request, so the plan holds their answers, and
 * the number asked for (--events) counts them. Deterministic: the same seed,
 * events and orders give the same stream and answers (timestamps are
 * stamped when sent).
 *
 * Interleaving: order i opens at i/orders of the run and lives for about a
 * tenth of it, so at any moment roughly a tenth of the orders are active and
 * an order's consecutive events are many messages apart. Within one topic
 * an order's events keep their order (one key, one partition); across
 * topics they may interleave, which the worker must handle anyway.
 */
import type { InboundMessage } from '../demo/inbound-events';
import { type EventKind, type Parties, type PlannedEvent, planOrder } from './order-plan';
import { seededRandom } from './random';
import { planAnswers, type SettlementAnswer } from './settlement-plan';

export const duplicateShare = 0.05;
/** The share of the run an order's life spans (in stream position). */
const orderLifetime = 0.1;
/** Steps in a long order's life: 4 milestones of up to 3 payments and 3 more events each. */
const stepsPerLifetime = 24;

export interface PlanOptions {
  readonly events: number;
  /** Unset: as many as the events need. */
  readonly orders?: number;
  readonly seed: string;
}

export interface BenchPlan {
  /** In the order they are produced; the settlements of payouts and refunds are not among them. */
  readonly events: readonly PlannedEvent[];
  readonly orders: number;
  readonly duplicates: number;
  readonly byKind: Readonly<Record<EventKind, number>>;
  /**
   * The answer to each payout and refund the events cause when applied in
   * order, by requestKey: sent as the worker publishes the request.
   */
  readonly answers: ReadonlyMap<string, SettlementAnswer>;
}

export class PlanError extends Error {
  readonly code = 'BENCH_PLAN_INVALID';
  readonly retryable = false;
}

export function generatePlan(options: PlanOptions): BenchPlan {
  const { events, orders, seed } = options;
  if (!Number.isSafeInteger(events) || events < 10) {
    throw new PlanError(`--events ${events} is too few for a benchmark; use at least 10`);
  }
  const random = seededRandom(`escrow-bench:${seed}`);
  // Events other than retried callbacks, the settlements of the requests they cause included.
  const base = events - Math.round(events * duplicateShare);
  const parties = (count: number): Parties => ({
    buyers: Math.max(1, Math.ceil(count / 3)),
    providers: Math.max(1, Math.ceil(count / 8)),
  });

  // Parties are drawn from pools sized by the order count; without --orders the
  // count is only known at the end, so the pools follow the estimate of 9 events per order.
  const pools = parties(orders ?? Math.ceil(base / 9));
  const lives: PlannedEvent[][] = [];
  let planned = 0;
  while (orders === undefined ? planned < base : lives.length < orders) {
    const life = planOrder(random, lives.length, pools);
    lives.push(life);
    planned += weightOf(life);
  }
  if (planned < base) {
    throw new PlanError(
      `--orders ${orders} gives only ${planned} events before duplicates, fewer than the ` +
        `${base} that --events ${events} needs; use --orders ${Math.ceil((lives.length * base) / planned)} ` +
        'or more, or fewer --events',
    );
  }
  if (orders !== undefined && orders > base) {
    throw new PlanError(
      `--orders ${orders} needs at least one event each, more than the ${base} that --events ${events} ` +
        `leaves before duplicates; use --orders ${base} or fewer`,
    );
  }
  trimToSize(lives, planned - base, orders !== undefined);
  const requests = lives.flatMap((life) =>
    life.flatMap((event) =>
      (event.requests ?? []).map((request) => ({ ...request, orderId: event.message.orderId })),
    ),
  );
  // Their own source, so that the answers do not shift the stream's draws.
  const answers = planAnswers(seededRandom(`escrow-bench:${seed}:settlements`), requests);
  // Trimming an event with its requests may take up to two more than asked: more retries fill in.
  const duplicates = events - lives.reduce((sum, life) => sum + life.length, 0) - answers.size;

  const stepWidth = orderLifetime / stepsPerLifetime;
  const stream = sortByTime(
    lives.flatMap((life, index) => {
      const opensAt = (index / lives.length) * (1 - orderLifetime);
      return life.map((event, position) => ({
        event,
        at: opensAt + event.step * stepWidth,
        index,
        position,
      }));
    }),
  );

  // Retries of distinct payments, each shortly after the callback it repeats.
  const payments = stream.filter((item) => item.event.kind === 'PAYMENT');
  const chosen = new Set<number>();
  while (chosen.size < Math.min(duplicates, payments.length)) {
    chosen.add(random.int(0, payments.length - 1));
  }
  const retries = [...chosen]
    .sort((a, b) => a - b)
    .map((n) => {
      const original = payments[n]!;
      return {
        ...original,
        at: original.at + stepWidth * (0.1 + random.next() / 2),
        position: original.position + 0.5,
        event: retryOf(original.event),
      };
    });
  const all = sortByTime([...stream, ...retries]).map((item) => item.event);
  return {
    events: all,
    orders: new Set(all.map((event) => event.message.orderId)).size,
    duplicates: retries.length,
    byKind: countKinds(all),
    answers,
  };
}

/** An event and the settlements of the requests it causes. */
const weightOf = (events: readonly PlannedEvent[]) =>
  events.reduce((sum, event) => sum + 1 + (event.requests?.length ?? 0), 0);

/**
 * Removes events weighing `excess` (each with the settlements of its
 * requests) from the ends of the orders' lives (the later part of a life:
 * payments, releases), never an ORDER_OPENED. Without --orders the excess
 * comes from the last orders' lives; with --orders it is spread over every
 * order in proportion, as orders still in progress when the run stops.
 */
function trimToSize(lives: PlannedEvent[][], excess: number, spread: boolean): void {
  const total = lives.reduce((sum, life) => sum + weightOf(life), 0);
  let left = excess;
  for (let index = lives.length - 1; index >= 0 && left > 0; index--) {
    const life = lives[index]!;
    const share = !spread || index === 0 ? left : Math.ceil((excess * weightOf(life)) / total);
    let cut = 0;
    while (cut < share && life.length > 1) cut += weightOf(life.splice(-1, 1));
    left -= cut;
  }
  if (left > 0) throw new PlanError(`could not trim ${left} more events; use fewer --orders`);
}

function sortByTime<T extends { at: number; index: number; position: number }>(items: T[]): T[] {
  return items.sort((a, b) => a.at - b.at || a.index - b.index || a.position - b.position);
}

/** The same callback again from a retrying adapter: same substance, a new eventId. */
function retryOf(original: PlannedEvent): PlannedEvent {
  const eventId = `${original.message.eventId}:retry`;
  const message: InboundMessage = {
    ...original.message,
    eventId,
    label: `${original.message.label} (retried)`,
    value: { ...original.message.value, eventId },
  };
  return {
    kind: 'DUPLICATE_PAYMENT',
    message,
    step: original.step,
    duplicateOf: original.message.eventId,
  };
}

function countKinds(events: readonly PlannedEvent[]): Record<EventKind, number> {
  const counts: Record<EventKind, number> = {
    ORDER_OPENED: 0,
    PAYMENT: 0,
    DUPLICATE_PAYMENT: 0,
    REACHED: 0,
    REFUND_REQUESTED: 0,
    DISPUTE_OPENED: 0,
    DISPUTE_RESOLVED: 0,
    DISPUTE_WITHDRAWN: 0,
    CHARGEBACK: 0,
  };
  for (const event of events) counts[event.kind]++;
  return counts;
}
