/**
 * The benchmark's realistic stream as inbound events, for tests of the unit
 * of work: orders, payments with retried callbacks, milestones, refunds and
 * disputes, with events of other topics overtaking their ORDER_OPENED.
 */
import { consumers } from '../../consumers';
import { generatePlan } from '../../src/bench/generator';
import { seededRandom } from '../../src/bench/random';
import type { InboundEvent } from '../../src/pipeline/events';

const handlers = new Map(consumers.map((handler) => [handler.topic, handler]));

/** The benchmark's stream as inbound events, each topic's events moved up to `spread` places. */
export function benchStream(seed: string, events: number, spread: number): InboundEvent[] {
  const plan = generatePlan({ events, seed });
  const random = seededRandom(`apply-batch:${seed}`);
  const offsets = new Map<string, number>();
  const inbound = plan.events.map((planned, index) => {
    const parsed = handlers.get(planned.message.topic)!.parse(planned.message.value);
    if (!parsed.ok) throw new Error(parsed.reason);
    const offset = (offsets.get(planned.message.topic) ?? 0) + 1;
    offsets.set(planned.message.topic, offset);
    return {
      position:
        index + random.next() * spread * (planned.message.topic === 'escrow.orders.v1' ? 1 : 0),
      event: {
        topic: planned.message.topic,
        partition: 0,
        offset: String(offset),
        occurredAt: new Date(Date.UTC(2026, 4, 1) + index * 1000),
        command: parsed.command,
      } satisfies InboundEvent,
    };
  });
  // Orders arrive late: events of other topics overtake their ORDER_OPENED (kept, then replayed).
  return inbound.sort((a, b) => a.position - b.position).map((entry) => entry.event);
}
