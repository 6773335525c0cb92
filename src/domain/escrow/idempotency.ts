/**
 * What makes two deliveries "the same event" (CONTRACT.md, Conventions):
 * payment confirmations are keyed on (gateway, gatewayReference), every other
 * event on its eventId. Under one key, a redelivery with the same substance
 * (the fields that decide the effect) is a duplicate with no second effect,
 * even with a new eventId or timestamp; a different substance is an
 * IDEMPOTENCY_CONFLICT. The storage side keeps a hash of `substanceOf`.
 */
import type { EscrowCommand, Settle, SettlementType } from './commands';

/**
 * The inbox key. A payment's is its gateway and reference as a JSON array:
 * joined with ":" as they once were, ("adyen:eu", "psp-1") and ("adyen",
 * "eu:psp-1") gave one key, and the second payment was answered DUPLICATE
 * and never reached the ledger. JSON quotes each part, so no id can move the
 * boundary; the same text is what migration 202612040001 rebuilt stored keys
 * into (`to_json` of each column), so keep the two in step. A settlement's
 * is its gateway, reference and type the same way (CONTRACT.md: settlements
 * deduplicate on (gateway, gatewayReference, type)).
 */
export function dedupeKey(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED')
    return paymentKey(command.gateway, command.gatewayReference);
  if (isSettlement(command))
    return `settlement:${JSON.stringify([command.gateway, command.gatewayReference, command.type])}`;
  return `event:${command.eventId}`;
}

/** A payment's inbox key, also how a chargeback finds the payment it pulls back. */
export const paymentKey = (gateway: string, gatewayReference: string): string =>
  `payment:${JSON.stringify([gateway, gatewayReference])}`;

const settlementTypes: ReadonlySet<string> = new Set<SettlementType>([
  'PAYOUT_PAID',
  'PAYOUT_FAILED',
  'REFUND_PAID',
  'REFUND_FAILED',
  'CHARGEBACK',
  'CHARGEBACK_REVERSED',
]);

export const isSettlement = (command: EscrowCommand): command is Settle =>
  settlementTypes.has(command.type);

/** Fields holding a decimal amount: compared by value ("250" is "250.00"). */
const amountFields: ReadonlySet<string> = new Set([
  'amount',
  'finalAmount',
  'providerAmount',
  'buyerAmount',
]);

/**
 * A canonical text of the fields that decide the command's effect (key order
 * fixed). A payment's gateway and reference are part of it; its eventId is
 * not (a retrying gateway adapter may send a new one). Amounts count by
 * value: a retried callback spelling "250" as "250.00" is the same payment,
 * not a conflict (a malformed amount keeps its text, and is refused anyway).
 */
export function substanceOf(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED') {
    const { gateway, gatewayReference, orderId, milestoneId, kind, amount, currency } = command;
    return canonical(
      {
        type: command.type,
        gateway,
        gatewayReference,
        orderId,
        milestoneId,
        kind,
        amount,
        currency,
      },
      amountByValue,
    );
  }
  return canonical({ ...command, eventId: undefined }, amountByValue);
}

/**
 * The substance as it was before amounts counted by value and payments
 * carried their gateway: inbox rows written then hold its hash (without a
 * version prefix), and a redelivery of such an event is compared with it.
 */
export function substanceBeforeVersion2(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED') {
    const { orderId, milestoneId, kind, amount, currency } = command;
    return canonical(
      { type: command.type, orderId, milestoneId, kind, amount, currency },
      asWritten,
    );
  }
  return canonical({ ...command, eventId: undefined }, asWritten);
}

const asWritten = (_key: string, value: string) => value;

const plainDecimal = /^(-?)(\d+)(?:\.(\d+))?$/;

/** "0250.500" -> "250.5", "-0.00" -> "0"; anything else unchanged. */
function amountByValue(key: string, value: string): string {
  if (!amountFields.has(key)) return value;
  const parts = plainDecimal.exec(value);
  if (parts === null) return value;
  const [, sign = '', integerPart = '', fractionPart = ''] = parts;
  const integer = integerPart.replace(/^0+(?=\d)/, '');
  const fraction = fractionPart.replace(/0+$/, '');
  const magnitude = fraction === '' ? integer : `${integer}.${fraction}`;
  return magnitude === '0' ? '0' : `${sign}${magnitude}`;
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
function canonical(value: unknown, text: (key: string, value: string) => string): string {
  return JSON.stringify(value, (key, inner: unknown) => {
    if (typeof inner === 'string') return text(key, inner);
    return inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? sortedCopy(inner as Record<string, unknown>)
      : inner;
  });
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
