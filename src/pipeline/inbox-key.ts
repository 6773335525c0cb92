/**
 * An event's inbox identity: its dedupe key (CONTRACT.md: `(gateway,
 * gatewayReference)` for payments, `eventId` otherwise) and a sha256 of its
 * substance, which tells a harmless redelivery from a reused key. The
 * pipeline stores both; the DLQ tool asks the inbox with both.
 */
import { createHash } from 'node:crypto';
import { dedupeKey, type EscrowCommand, substanceOf } from '../domain/escrow';

export function inboxKeyOf(command: EscrowCommand): { key: string; hash: string } {
  return {
    key: dedupeKey(command),
    hash: createHash('sha256').update(substanceOf(command)).digest('hex'),
  };
}
