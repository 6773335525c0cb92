/**
 * An inbox key reused with another substance (CONTRACT.md, Conventions):
 * nothing changes, the reuse is answered once with EVENT_REJECTED /
 * IDEMPOTENCY_CONFLICT, and a marker row keyed by the key and the new
 * substance's hash makes a redelivery of the same reuse a duplicate.
 */
import type { EscrowCommand, OutcomeDraft } from '../domain/escrow';

/** The inbox key of the marker for one conflicting substance under `key`. */
export const conflictKey = (key: string, hash: string) => `conflict:${key}:${hash}`;

export function idempotencyConflictOutcome(command: EscrowCommand, key: string): OutcomeDraft {
  const message =
    `${command.type} ${command.eventId} reuses ${key.replace(/^event:/, 'eventId ')} ` +
    'with a different substance than the event first seen under it; nothing was changed. ' +
    'Send a new key for a new event, or the same substance for a retry.';
  return {
    topic: 'escrow.events.v1',
    type: 'EVENT_REJECTED',
    orderId: command.orderId,
    milestoneId: 'milestoneId' in command ? command.milestoneId : null,
    milestoneVersion: null,
    transactionIndex: null,
    fields: { reason: 'IDEMPOTENCY_CONFLICT', message, rejectedEventId: command.eventId },
  };
}
