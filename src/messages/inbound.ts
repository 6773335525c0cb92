/**
 * Validators for the five inbound topics. Their fields mirror the Avro schemas
 * in schemas/ one for one (test/unit/messages/schema-agreement.test.ts proves
 * it field by field); on top they hold the rules Avro cannot say: which fields
 * each event type needs, non-empty ids that fit the database, ISO-8601 UTC
 * timestamps, ISO 4217 codes, ids without control characters and text without
 * NUL (Postgres text cannot store it). Amounts stay decimal strings here: whether
 * "10.001" fits the order's currency is the domain's rule (AMOUNT_PRECISION).
 */
import { z } from 'zod';

/**
 * The first character `banned` picks out, as "U+0000 at character 9" (counted
 * from 1, in code points). It reads UTF-16 units with charCodeAt and joins a
 * surrogate pair into one code point (a lone surrogate is one of its own), as
 * `for..of` does but without the string iterator, whose result and string for
 * each character only an optimized compile removes: it runs over the ids and
 * text of every message, where a banned character is rare, so the text is
 * built only when one is found.
 */
export function findCharacter(
  value: string,
  banned: (codePoint: number) => boolean,
): string | undefined {
  const units = value.length;
  let position = 0;
  for (let index = 0; index < units; index += 1) {
    let codePoint = value.charCodeAt(index);
    if (codePoint >= 0xd800 && codePoint <= 0xdbff && index + 1 < units) {
      const low = value.charCodeAt(index + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (low - 0xdc00);
        index += 1;
      }
    }
    position += 1;
    if (banned(codePoint)) {
      const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
      return `U+${hex} at character ${position}`;
    }
  }
  return undefined;
}

// C0 controls (NUL, TAB, LF, ...), DEL and the C1 controls: never part of an
// identifier, invisible in logs and tables, and NUL is a byte Postgres text
// cannot store at all (22021), so a message carrying one would otherwise fail
// only at the inbox insert and be dead-lettered as a processing failure.
export const isControl = (codePoint: number) =>
  codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f);
// The same set as isControl, for a test that allocates nothing on the ids that
// pass; all of it lies below the surrogates, so UTF-16 units and code points agree.
// eslint-disable-next-line no-control-regex -- matching control characters is its purpose
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;
const isNul = (codePoint: number) => codePoint === 0;

/**
 * Adds a refusal as superRefine's context.addIssue adds one (code "custom",
 * the value as input, later checks still run), so the issues and the text of
 * describeIssues are those a superRefine would give. The checks below are
 * plain check functions rather than superRefine, which allocates an addIssue
 * closure on every run: once per id field of every message.
 */
function refuse(payload: z.core.ParsePayload, message: string, path?: [string]) {
  payload.issues.push(
    path === undefined
      ? { code: 'custom', message, input: payload.value, continue: true }
      : { code: 'custom', path, message, input: payload.value, continue: true },
  );
}

/**
 * Printable text of 1 to `longest` characters: every id column in the
 * database has the same CHECK (200; gateway names 100, `payments.gateway`),
 * counted the same way (zod's max, like Postgres's length(), counts code
 * points: an id of 200 emoji is 400 UTF-16 units and fits both), so what
 * passes here always fits where it is stored, and what fits there passes here.
 */
const idOfAtMost = (longest: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(longest, `must be at most ${longest} characters`)
    .check((payload) => {
      if (!controlCharacter.test(payload.value)) return;
      refuse(
        payload,
        `must not contain control characters (found ${findCharacter(payload.value, isControl)}): ` +
          'an id is printable text, so remove the control character where the event is produced',
      );
    });
const id = idOfAtMost(200);
const gatewayName = idOfAtMost(100);
// Free text may hold tabs and line breaks, but not NUL, which Postgres text cannot store.
const text = z
  .string()
  .max(2000, 'must be at most 2000 characters')
  .check((payload) => {
    if (!payload.value.includes('\u0000')) return;
    refuse(
      payload,
      `must not contain the NUL character (found ${findCharacter(payload.value, isNul)}), ` +
        'which Postgres text cannot store: remove it where the event is produced',
    );
  });
const amount = z
  .string()
  .max(40, 'is too long for an amount')
  .regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string in major units such as "1000.00"');
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 alphabetic code such as "USD"');
// Digits sit at fixed places once the shape matches: YYYY-MM-DDTHH:MM:SS.
const timestampShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]00:00)$/;
const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** The number the decimal digits of `value` from `start` to before `end` spell. */
function digitsAt(value: string, start: number, end: number): number {
  let number = 0;
  for (let index = start; index < end; index += 1) {
    number = number * 10 + (value.charCodeAt(index) - 0x30);
  }
  return number;
}

/**
 * Whether the fields of a timestamp of the right shape name a real instant:
 * the same answer as building the date with Date.UTC and reading every field
 * back unchanged (the rule's reference, test/unit/messages/timestamps.test.ts),
 * computed from the digits so that no match, array or Date is made for each
 * message. That reading back refuses the years 0000-0099, which Date.UTC
 * takes as 1900-1999; no event of this worker is that old.
 */
function isRealInstant(value: string): boolean {
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 7);
  const day = digitsAt(value, 8, 10);
  if (year < 100 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const lastDay = month === 2 && leap ? 29 : daysInMonth[month - 1]!;
  return (
    day <= lastDay &&
    digitsAt(value, 11, 13) <= 23 &&
    digitsAt(value, 14, 16) <= 59 &&
    digitsAt(value, 17, 19) <= 59
  );
}

/**
 * The shape alone lets "2026-13-01" and "2026-02-30" through, which Date then
 * rejects later (a processing failure) or rolls over into another day. A
 * timestamp is valid only when its fields name a real instant. A leap second
 * (:60) is refused too, since no JavaScript date holds one.
 */
const timestamp = z.string().check((payload) => {
  const value = payload.value;
  if (!timestampShape.test(value)) {
    refuse(payload, 'must be an ISO-8601 timestamp in UTC such as "2026-03-01T10:00:00Z"');
    return;
  }
  if (isRealInstant(value)) return;
  refuse(
    payload,
    `is not a real date and time (${value.slice(0, 19)}): month 01-12, a day the month ` +
      'has, hours 00-23, minutes and seconds 00-59; send the instant the event happened',
  );
});
const version = z.number().int().min(1, 'must be a version number from 1');
const releaseCondition = z.enum([
  'DELIVERY_CONFIRMED',
  'REPORT_SUBMITTED',
  'BUYER_APPROVED',
  'ANY',
]);

// Shared, so that an event type that needs no field allocates no empty array.
const noFields: readonly never[] = [];

/** Requires `fields` to be present (not null) for events of the given types. */
function requireFor<T extends { type: string }>(
  types: Record<string, readonly (keyof T & string)[]>,
) {
  return (payload: z.core.ParsePayload<T>) => {
    const event = payload.value;
    for (const field of types[event.type] ?? noFields) {
      if (event[field] === null || event[field] === undefined) {
        refuse(payload, `is required for ${event.type} events`, [field]);
      }
    }
  };
}

export const milestonePlanMessage = z.object({
  milestoneId: id,
  sequence: z.number().int().min(0),
  amount,
  releaseCondition,
  inspectionPeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(366 * 24 * 3600),
});

export const orderMessage = z
  .object({
    eventId: id,
    type: z.enum(['ORDER_OPENED', 'REFUND_REQUESTED', 'MILESTONE_CANCELLED', 'ORDER_CANCELLED']),
    orderId: id,
    occurredAt: timestamp,
    buyerId: id.nullable(),
    providerId: id.nullable(),
    currency: currency.nullable(),
    milestones: z.array(milestonePlanMessage).min(1).max(100).nullable(),
    milestoneId: id.nullable(),
    amount: amount.nullable(),
    reason: text.nullable(),
    expectedVersion: version.nullable(),
  })
  .check(
    requireFor({
      ORDER_OPENED: ['buyerId', 'providerId', 'currency', 'milestones'],
      REFUND_REQUESTED: ['milestoneId', 'amount', 'reason'],
      MILESTONE_CANCELLED: ['milestoneId'],
    }),
  );

export const paymentConfirmedMessage = z
  .object({
    eventId: id,
    gateway: gatewayName,
    gatewayReference: id,
    orderId: id,
    milestoneId: id.nullable(),
    kind: z.enum(['DEPOSIT', 'INSTALLMENT', 'FINAL', 'SERVICE_FEE']),
    amount,
    currency,
    confirmedAt: timestamp,
  })
  .check((payload) => {
    const event = payload.value;
    if (event.kind !== 'SERVICE_FEE' && event.milestoneId === null) {
      refuse(payload, `is required for ${event.kind} payments (only SERVICE_FEE may omit it)`, [
        'milestoneId',
      ]);
    }
  });

export const milestoneReachedMessage = z.object({
  eventId: id,
  orderId: id,
  milestoneId: id,
  condition: z.enum(['DELIVERY_CONFIRMED', 'REPORT_SUBMITTED', 'BUYER_APPROVED']),
  finalAmount: amount.nullable(),
  expectedVersion: version.nullable(),
  occurredAt: timestamp,
});

export const disputeMessage = z
  .object({
    eventId: id,
    type: z.enum(['OPENED', 'WITHDRAWN', 'RESOLVED']),
    orderId: id,
    milestoneId: id,
    disputeId: id,
    openedBy: id.nullable(),
    reason: text.nullable(),
    resolution: z.object({ providerAmount: amount, buyerAmount: amount }).nullable(),
    actor: id.nullable(),
    expectedVersion: version.nullable(),
    occurredAt: timestamp,
  })
  .check(requireFor({ RESOLVED: ['resolution'] }));

/**
 * A settlement names the request it settles by its outcomeId, which is the
 * UUID escrow-worker gave the PAYOUT_REQUESTED or REFUND_REQUESTED (stored as
 * a uuid). Any other text could never match one: refused here rather than
 * kept forever. Upper or lower case are the same UUID (the command carries
 * it in lower case, the way it was published and is stored).
 */
const outcomeId = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'must be the outcomeId (a UUID such as "0b6c1f1e-6f1a-4c1e-9d5e-2f3a4b5c6d7e") of the ' +
      'PAYOUT_REQUESTED or REFUND_REQUESTED this settles',
  );

const settlementTypes = [
  'PAYOUT_PAID',
  'PAYOUT_FAILED',
  'REFUND_PAID',
  'REFUND_FAILED',
  'CHARGEBACK',
  'CHARGEBACK_REVERSED',
] as const;

export const settlementMessage = z
  .object({
    eventId: id,
    type: z.enum(settlementTypes),
    orderId: id,
    milestoneId: id.nullable(),
    outcomeId: outcomeId.nullable(),
    gateway: gatewayName,
    gatewayReference: id,
    amount,
    currency,
    reason: text.nullable(),
    occurredAt: timestamp,
  })
  .check(
    requireFor({
      PAYOUT_PAID: ['outcomeId'],
      PAYOUT_FAILED: ['outcomeId', 'reason'],
      REFUND_PAID: ['outcomeId'],
      REFUND_FAILED: ['outcomeId', 'reason'],
    }),
  )
  .check((payload) => {
    const event = payload.value;
    // A chargeback names the payment, not an outcome: an outcomeId there is a
    // sender mixing up the two, and guessing which it meant could move money wrongly.
    if (event.type.startsWith('CHARGEBACK') && event.outcomeId !== null) {
      refuse(
        payload,
        `must be null for ${event.type} events, which name the payment by its gatewayReference; ` +
          'send the outcomeId only with PAYOUT_* and REFUND_* settlements',
        ['outcomeId'],
      );
    }
    if (event.type.endsWith('_FAILED') && event.reason !== null && event.reason.trim() === '') {
      refuse(
        payload,
        `must say why the transfer failed for ${event.type} events (e.g. "ACCOUNT_CLOSED")`,
        ['reason'],
      );
    }
  });

export type OrderMessage = z.infer<typeof orderMessage>;
export type PaymentConfirmedMessage = z.infer<typeof paymentConfirmedMessage>;
export type MilestoneReachedMessage = z.infer<typeof milestoneReachedMessage>;
export type DisputeMessage = z.infer<typeof disputeMessage>;
export type SettlementMessage = z.infer<typeof settlementMessage>;

export const inboundValidators = {
  'escrow.orders.v1': orderMessage,
  'escrow.payment-confirmed.v1': paymentConfirmedMessage,
  'escrow.milestone-reached.v1': milestoneReachedMessage,
  'escrow.disputes.v1': disputeMessage,
  'escrow.settlements.v1': settlementMessage,
} as const;

/** One line naming every problem: `milestones.0.amount must be a decimal string ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(message)'} ${issue.message}`)
    .join('; ');
}
