/**
 * The settlement inbox as the model expects it to answer (CONTRACT.md:
 * settlements deduplicate on (gateway, gatewayReference, type)): the same
 * key with the same substance is a duplicate whatever its eventId; with
 * another substance an idempotency conflict, answered once per substance and
 * a duplicate after that.
 */
import type { Settle } from '../../src/domain/escrow';

export type InboxVerdict = 'NEW' | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT';

export class SettlementInbox {
  /** The substance first stored under each key. */
  private readonly stored = new Map<string, string>();
  /** Keys answered with a conflict, with the substance that conflicted. */
  private readonly conflicts = new Set<string>();

  /** How a settlement must be answered before it is decided. */
  verdict(command: Settle): InboxVerdict {
    const stored = this.stored.get(keyOf(command));
    if (stored === undefined) return 'NEW';
    if (stored === substance(command)) return 'DUPLICATE';
    return this.conflicts.has(conflictOf(command)) ? 'DUPLICATE' : 'IDEMPOTENCY_CONFLICT';
  }

  /** Called once a settlement was delivered: its key is taken, whatever the answer. */
  delivered(command: Settle): void {
    const key = keyOf(command);
    const stored = this.stored.get(key);
    if (stored === undefined) this.stored.set(key, substance(command));
    else if (stored !== substance(command)) this.conflicts.add(conflictOf(command));
  }
}

const keyOf = (command: Settle) =>
  JSON.stringify([command.gateway, command.gatewayReference, command.type]);

/** The settlement's fields besides its eventId (the generator writes amounts canonically). */
const substance = (command: Settle) => JSON.stringify({ ...command, eventId: undefined });

const conflictOf = (command: Settle) => `${keyOf(command)} ${substance(command)}`;
