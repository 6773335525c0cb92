/**
 * An event's inbox identity: its dedupe key (CONTRACT.md: `(gateway,
 * gatewayReference)` for payments, `eventId` otherwise) and a hash of its
 * substance, which tells a harmless redelivery from a reused key. The
 * pipeline stores both; the DLQ tool asks the inbox with both.
 *
 * Hashes carry the version of the substance they were made from: "v2:<sha256>"
 * since amounts count by value and a payment's substance holds its gateway;
 * a bare sha256 is version 1, which rows written before then hold. A stored
 * hash is compared with the same version of the arriving event's substance,
 * so a callback retried across the upgrade is still a duplicate.
 */
import { createHash } from 'node:crypto';
import {
  dedupeKey,
  type EscrowCommand,
  inboxVerdict,
  type InboxVerdict,
  substanceBeforeVersion2,
  substanceOf,
} from '../domain/escrow';

const currentVersion = 'v2:';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function inboxKeyOf(command: EscrowCommand): { key: string; hash: string } {
  return { key: dedupeKey(command), hash: currentVersion + sha256(substanceOf(command)) };
}

/**
 * The inbox's answer to an event under a key: NEW (nothing stored), DUPLICATE
 * or IDEMPOTENCY_CONFLICT, by the domain's inboxVerdict, with the arriving
 * event's substance hashed in the version the stored hash was made in.
 */
export function storedVerdict(
  storedHash: string | undefined,
  command: EscrowCommand,
  hash: string,
): InboxVerdict {
  if (storedHash === undefined) return inboxVerdict(undefined, hash);
  const comparable = storedHash.startsWith(currentVersion)
    ? hash
    : sha256(substanceBeforeVersion2(command));
  return inboxVerdict(storedHash, comparable);
}
