/**
 * What makes two deliveries "the same event" (CONTRACT.md, Conventions):
 * payment confirmations are keyed on (gateway, gatewayReference), every other
 * event on its eventId. Under one key, a redelivery with the same substance
 * (the fields that decide the effect) is a duplicate with no second effect,
 * even with a new eventId or timestamp; a different substance is an
 * IDEMPOTENCY_CONFLICT. The storage side keeps a hash of `substanceOf`.
 */
import type { EscrowCommand } from './commands';

export function dedupeKey(command: EscrowCommand): string {
  return command.type === 'PAYMENT_CONFIRMED'
    ? `payment:${command.gateway}:${command.gatewayReference}`
    : `event:${command.eventId}`;
}

/** A canonical text of the fields that decide the command's effect (key order fixed). */
export function substanceOf(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED') {
    // A retrying gateway adapter may send a new eventId: it is not substance.
    const { orderId, milestoneId, kind, amount, currency } = command;
    return canonical({ type: command.type, orderId, milestoneId, kind, amount, currency });
  }
  return canonical({ ...command, eventId: undefined });
}

export type InboxVerdict = 'NEW' | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT';

export function inboxVerdict(storedSubstance: string | undefined, substance: string): InboxVerdict {
  if (storedSubstance === undefined) return 'NEW';
  return storedSubstance === substance ? 'DUPLICATE' : 'IDEMPOTENCY_CONFLICT';
}

/**
 * JSON with every object's keys in localeCompare order and undefined fields
 * left out. The stored hashes depend on this exact text, so the order must
 * never change (it is pinned by a test). Sorting with localeCompare costs
 * microseconds per object, and objects of one shape always sort the same, so
 * each shape's order is computed once; commands come in a few shapes, and
 * the cache stops growing at `maxCachedShapes` in case input brings more.
 */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? sortedCopy(inner as Record<string, unknown>)
      : inner,
  );
}

const maxCachedShapes = 256;
const sortedKeysByShape = new Map<string, readonly string[]>();

function sortedCopy(object: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(object);
  // JSON, not a join: keys holding the separator must not make two shapes one.
  const shape = JSON.stringify(keys);
  let sorted = sortedKeysByShape.get(shape);
  if (sorted === undefined) {
    sorted = keys.sort((a, b) => a.localeCompare(b));
    if (sortedKeysByShape.size < maxCachedShapes) sortedKeysByShape.set(shape, sorted);
  }
  // No prototype, so that a "__proto__" key is copied as a field like any other.
  const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of sorted) {
    const field = object[key];
    if (field !== undefined) copy[key] = field;
  }
  return copy;
}
