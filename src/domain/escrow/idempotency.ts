/**
 * What makes two deliveries "the same event" (CONTRACT.md, Conventions):
 * payment confirmations are keyed on (gateway, gatewayReference), every other
 * event on its eventId. Under one key, a redelivery with the same substance
 * (the fields that decide the effect) is a duplicate with no second effect,
 * even with a new eventId or timestamp; a different substance is an
 * IDEMPOTENCY_CONFLICT. The storage side keeps a hash of `substanceOf`.
 */
import { keyOrderCache } from '../text/key-order';
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

/** Maps each string the substance holds, given the key it is held under. */
type TextOf = (key: string, value: string) => string;

/**
 * JSON with every object's keys in localeCompare order (array-index keys
 * first: see isArrayIndex) and undefined fields left out. The stored hashes
 * depend on this exact text, so it must never change (idempotency.test.ts
 * pins it). It was `JSON.stringify` with a replacer that handed it a sorted
 * copy of every object: a replacer puts JSON.stringify on V8's slow path,
 * and the copies were garbage on every event, so this writes the same text
 * directly and copies nothing. idempotency.property.test.ts keeps that
 * implementation and compares the two on random values. What this keeps of
 * JSON.stringify:
 * - each value's `toJSON` (a Date's) is called with its key, then a string
 *   goes through `text` with that key: a property's name, an element's index
 *   as a string, "" for the whole value;
 * - a field whose value is undefined, a function or a symbol is left out, an
 *   element that is one is written null; a number that is not finite is
 *   null; a bigint throws a TypeError;
 * - every other object, a String or Number wrapper too, is written as its own
 *   enumerable keys, as the copy was.
 */
function canonical(value: unknown, text: TextOf): string {
  // Undefined only where JSON.stringify gave undefined too (a root without
  // text); the callers' object literals always have one.
  return written('', value, text) as string;
}

/** The value's text, or undefined where JSON has none (undefined, a function, a symbol). */
function written(key: string, value: unknown, text: TextOf): string | undefined {
  let inner = value;
  // JSON.stringify asks objects (functions are objects) and bigints for toJSON.
  if (
    (typeof inner === 'object' && inner !== null) ||
    typeof inner === 'function' ||
    typeof inner === 'bigint'
  ) {
    const toJSON = (inner as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') inner = (toJSON as (key: string) => unknown).call(inner, key);
  }
  switch (typeof inner) {
    case 'string':
      return JSON.stringify(text(key, inner));
    case 'number':
      return Number.isFinite(inner) ? String(inner) : 'null';
    case 'boolean':
      return inner ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      if (inner === null) return 'null';
      return Array.isArray(inner)
        ? arrayText(inner as readonly unknown[], text)
        : objectText(inner as Record<string, unknown>, text);
    default:
      return undefined;
  }
}

function arrayText(array: readonly unknown[], text: TextOf): string {
  let json = '[';
  for (let index = 0; index < array.length; index++) {
    if (index > 0) json += ',';
    json += written(String(index), array[index], text) ?? 'null';
  }
  return `${json}]`;
}

function objectText(object: Record<string, unknown>, text: TextOf): string {
  const { keys, labels } = shapeOf(object);
  let json = '{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const field = written(key, object[key], text);
    if (field === undefined) continue;
    if (json.length > 1) json += ',';
    json += labels[index]! + field;
  }
  return `${json}}`;
}

/**
 * Sorting with localeCompare costs microseconds per object, so each shape's
 * order is worked out once (key-order.ts). A stable sort, as before: keys
 * localeCompare finds equal ("é" and "e\u0301") keep their Object.keys order.
 */
const shapeOf = keyOrderCache((keys) => [
  ...keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b)),
  ...keys.filter((key) => !isArrayIndex(key)).sort((a, b) => a.localeCompare(b)),
]);

/**
 * Keys like "2" and "10" come first, in numeric order: the sorted copy was an
 * object, and an object lists its array-index keys (0 to 2^32 - 2, written
 * without leading zeros) that way whatever order they were added in, so the
 * old text had them there.
 */
function isArrayIndex(key: string): boolean {
  const index = Number(key) >>> 0;
  return String(index) === key && index !== 2 ** 32 - 1;
}
