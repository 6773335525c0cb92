/**
 * The substance text is written directly now, no longer by JSON.stringify
 * with a replacer that sorted a copy of every object. Stored hashes depend on
 * the text, so the writer must give the old text byte for byte: these tests
 * compare `substanceOf` and `substanceBeforeVersion2` with the old
 * implementation, kept here as the reference, on the commands consumers build
 * and on random values in their fields: keys that sort differently by
 * localeCompare and by code unit, digit keys, "__proto__", amount fields at
 * any depth, strings needing escapes or holding lone surrogates, numbers JSON
 * has no text for, undefined, functions, symbols, Dates, toJSON methods.
 */
import fc from 'fast-check';
import {
  type EscrowCommand,
  substanceBeforeVersion2,
  substanceOf,
} from '../../../src/domain/escrow';

// ---------------------------------------------------------------------------
// The reference: src/domain/escrow/idempotency.ts as it was before the writer,
// unchanged but for the names. Do not "fix" it: it is what stored hashes hold.

const referenceAmountFields: ReadonlySet<string> = new Set([
  'amount',
  'finalAmount',
  'providerAmount',
  'buyerAmount',
]);

function referenceSubstanceOf(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED') {
    const { gateway, gatewayReference, orderId, milestoneId, kind, amount, currency } = command;
    return referenceCanonical(
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
      referenceAmountByValue,
    );
  }
  return referenceCanonical({ ...command, eventId: undefined }, referenceAmountByValue);
}

function referenceSubstanceBeforeVersion2(command: EscrowCommand): string {
  if (command.type === 'PAYMENT_CONFIRMED') {
    const { orderId, milestoneId, kind, amount, currency } = command;
    return referenceCanonical(
      { type: command.type, orderId, milestoneId, kind, amount, currency },
      referenceAsWritten,
    );
  }
  return referenceCanonical({ ...command, eventId: undefined }, referenceAsWritten);
}

const referenceAsWritten = (_key: string, value: string) => value;

const referencePlainDecimal = /^(-?)(\d+)(?:\.(\d+))?$/;

function referenceAmountByValue(key: string, value: string): string {
  if (!referenceAmountFields.has(key)) return value;
  const parts = referencePlainDecimal.exec(value);
  if (parts === null) return value;
  const [, sign = '', integerPart = '', fractionPart = ''] = parts;
  const integer = integerPart.replace(/^0+(?=\d)/, '');
  const fraction = fractionPart.replace(/0+$/, '');
  const magnitude = fraction === '' ? integer : `${integer}.${fraction}`;
  return magnitude === '0' ? '0' : `${sign}${magnitude}`;
}

function referenceCanonical(value: unknown, text: (key: string, value: string) => string): string {
  return JSON.stringify(value, (key, inner: unknown) => {
    if (typeof inner === 'string') return text(key, inner);
    return inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? referenceSortedCopy(inner as Record<string, unknown>)
      : inner;
  });
}

const referenceMaxCachedShapes = 256;
const referenceSortedKeysByShape = new Map<string, readonly string[]>();

function referenceSortedCopy(object: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(object);
  const shape = JSON.stringify(keys);
  let sorted = referenceSortedKeysByShape.get(shape);
  if (sorted === undefined) {
    sorted = keys.sort((a, b) => a.localeCompare(b));
    if (referenceSortedKeysByShape.size < referenceMaxCachedShapes)
      referenceSortedKeysByShape.set(shape, sorted);
  }
  const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of sorted) {
    const field = object[key];
    if (field !== undefined) copy[key] = field;
  }
  return copy;
}

// ---------------------------------------------------------------------------

/** The text, or the class of what was thrown: a bigint must still be refused. */
function outcome(substance: (command: EscrowCommand) => string, command: EscrowCommand) {
  try {
    return { text: substance(command) };
  } catch (error) {
    return { thrown: (error as Error).constructor.name };
  }
}

/** Both versions of the substance, twice (the second time each shape's order is cached). */
function expectReferenceText(command: EscrowCommand) {
  for (let call = 0; call < 2; call++) {
    expect(outcome(substanceOf, command)).toEqual(outcome(referenceSubstanceOf, command));
    expect(outcome(substanceBeforeVersion2, command)).toEqual(
      outcome(referenceSubstanceBeforeVersion2, command),
    );
  }
}

// Commands as src/messages/to-command.ts builds them.

const identifier = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z]{1,4}[-_:][0-9A-Za-z]{1,6}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
/** Decimal amounts spelled every way a gateway might, and a few malformed ones. */
const amountText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', '', '-'),
        fc.stringMatching(/^[0-9]{1,7}$/),
        fc.option(fc.stringMatching(/^[0-9]{0,4}$/)),
      )
      .map(
        ([sign, integer, fraction]) =>
          `${sign}${integer}${fraction === null ? '' : `.${fraction}`}`,
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom('', 'abc', '1,00', '1e3', ' 1', '.5', '5.', '+1', '-') },
);
const version = fc.oneof(fc.nat({ max: 50 }), fc.constant(null), fc.constant(undefined));
const currency = fc.constantFrom('USD', 'EUR', 'JPY', 'KWD');

const orderOpened = fc.record({
  type: fc.constant('ORDER_OPENED' as const),
  eventId: identifier,
  orderId: identifier,
  buyerId: identifier,
  providerId: identifier,
  currency,
  milestones: fc.array(
    fc.record({
      milestoneId: identifier,
      sequence: fc.integer({ min: 1, max: 9 }),
      amount: amountText,
      releaseCondition: fc.constantFrom(
        'DELIVERY_CONFIRMED' as const,
        'REPORT_SUBMITTED' as const,
        'BUYER_APPROVED' as const,
        'ANY' as const,
      ),
      inspectionPeriodSeconds: fc.nat({ max: 1_209_600 }),
    }),
    { minLength: 1, maxLength: 5 },
  ),
});
const paymentConfirmed = fc.record({
  type: fc.constant('PAYMENT_CONFIRMED' as const),
  eventId: identifier,
  gateway: fc.constantFrom('stripe', 'adyen', 'adyen:eu'),
  gatewayReference: identifier,
  orderId: identifier,
  milestoneId: fc.option(identifier),
  kind: fc.constantFrom(
    'DEPOSIT' as const,
    'INSTALLMENT' as const,
    'FINAL' as const,
    'SERVICE_FEE' as const,
  ),
  amount: amountText,
  currency,
});
const onMilestone = {
  eventId: identifier,
  orderId: identifier,
  milestoneId: identifier,
};
const milestoneReached = fc.record(
  {
    type: fc.constant('MILESTONE_REACHED' as const),
    ...onMilestone,
    condition: fc.constantFrom('DELIVERY_CONFIRMED', 'BUYER_APPROVED', 'ANY'),
    finalAmount: fc
      .option(amountText, { nil: undefined })
      .chain((amount) => fc.constantFrom(amount, null)),
    expectedVersion: version,
  },
  { requiredKeys: ['type', 'eventId', 'orderId', 'milestoneId', 'condition'] },
);
const refundRequested = fc.record(
  {
    type: fc.constant('REFUND_REQUESTED' as const),
    ...onMilestone,
    amount: amountText,
    reason: fc.oneof(amountText, identifier),
    expectedVersion: version,
  },
  { requiredKeys: ['type', 'eventId', 'orderId', 'milestoneId', 'amount', 'reason'] },
);
const milestoneCancelled = fc.record(
  { type: fc.constant('MILESTONE_CANCELLED' as const), ...onMilestone, expectedVersion: version },
  { requiredKeys: ['type', 'eventId', 'orderId', 'milestoneId'] },
);
const inspectionElapsed = fc.record({
  type: fc.constant('INSPECTION_ELAPSED' as const),
  ...onMilestone,
});
const orderCancelled = fc.record({
  type: fc.constant('ORDER_CANCELLED' as const),
  eventId: identifier,
  orderId: identifier,
});
const dispute = fc.oneof(
  fc.record({
    type: fc.constantFrom('DISPUTE_OPENED' as const, 'DISPUTE_WITHDRAWN' as const),
    ...onMilestone,
    disputeId: identifier,
    expectedVersion: version,
  }),
  fc.record({
    type: fc.constant('DISPUTE_RESOLVED' as const),
    ...onMilestone,
    disputeId: identifier,
    expectedVersion: version,
    resolution: fc.record({ providerAmount: amountText, buyerAmount: amountText }),
  }),
);
const settlement = fc.record({
  type: fc.constantFrom(
    'PAYOUT_PAID' as const,
    'PAYOUT_FAILED' as const,
    'REFUND_PAID' as const,
    'REFUND_FAILED' as const,
    'CHARGEBACK' as const,
    'CHARGEBACK_REVERSED' as const,
  ),
  eventId: identifier,
  orderId: identifier,
  milestoneId: fc.option(identifier),
  outcomeId: fc.option(identifier),
  gateway: fc.constantFrom('stripe', 'adyen'),
  gatewayReference: identifier,
  amount: amountText,
  currency,
  reason: fc.option(identifier),
});
const realCommand: fc.Arbitrary<EscrowCommand> = fc.oneof(
  orderOpened,
  paymentConfirmed,
  milestoneReached,
  refundRequested,
  milestoneCancelled,
  inspectionElapsed,
  orderCancelled,
  dispute,
  settlement,
);

/** The same fields in another order: another shape in the cache, the same text. */
const reordered = <T extends object>(command: T): T =>
  Object.fromEntries(Object.entries(command).reverse()) as T;

test('the commands consumers build have the old substance text, amounts of every spelling included', () => {
  fc.assert(
    fc.property(realCommand, fc.boolean(), (command, reverse) => {
      expectReferenceText(reverse ? reordered(command) : command);
    }),
    { numRuns: 3000 },
  );
});

// Random values in a command's fields.

const key = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '__proto__',
      'amount',
      'finalAmount',
      'providerAmount',
      'buyerAmount',
      'toJSON',
      'constructor',
      '',
      'a',
      'b',
      'B',
      'Zeta',
      'alpha',
      '_',
      '-',
      'é',
      'e\u0301',
      'Ä',
      'z',
      '0',
      '1',
      '2',
      '10',
      '01',
      '-1',
      '1.5',
      '1e3',
      '4294967294',
      '4294967295',
      '9007199254740993',
      'a"b',
      'a\\b',
      'a\u0000b',
      '\u2028',
      '\ud800',
    ),
  },
  { weight: 1, arbitrary: fc.nat({ max: 30 }).map(String) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);
const escapes = fc.constantFrom(
  '"',
  '\\',
  '/',
  '\u0000',
  '\b',
  '\n',
  '\t',
  '\u001f',
  '\u007f',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  'a',
  'é',
  '0',
  '.',
);
const text = fc.oneof(
  { weight: 3, arbitrary: amountText },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 2, arbitrary: fc.string({ unit: escapes, maxLength: 8 }) },
);
const number = fc.oneof(
  fc.double(), // -0, NaN and both infinities among them
  fc.integer(),
  fc.constantFrom(
    -0,
    NaN,
    Infinity,
    -Infinity,
    1e21,
    -1e21,
    1e-7,
    123e-20,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    0.1 + 0.2,
  ),
);
const leaf = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(() => 'a function') },
  // A function is an object to JSON.stringify: its toJSON is called too.
  { weight: 1, arbitrary: fc.constant(Object.assign(() => 'a function', { toJSON: () => 1 })) },
  { weight: 1, arbitrary: fc.constant(Symbol('a symbol')) },
  { weight: 1, arbitrary: fc.date() },
  { weight: 1, arbitrary: fc.constant(new Date(NaN)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(new String('ab'), new Number(7), new Boolean(false)),
  },
);

/** Objects as JSON.parse makes them ("__proto__" an own field), some without a prototype. */
const objectOf = (value: fc.Arbitrary<unknown>) =>
  fc
    .tuple(fc.array(fc.tuple(key, value), { maxLength: 7 }), fc.boolean())
    .map(([entries, withoutPrototype]) => {
      const object = Object.fromEntries(entries) as Record<string, unknown>;
      return withoutPrototype ? Object.assign(Object.create(null) as object, object) : object;
    });

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: leaf },
    { weight: 2, arbitrary: objectOf(tie('value')) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.sparseArray(tie('value'), { maxLength: 5 }) },
    // toJSON is called with the key before the text is taken: its result
    // (an amount's text, say) is then written as the key's value.
    { weight: 1, arbitrary: tie('value').map((result) => ({ toJSON: () => result })) },
    { weight: 1, arbitrary: fc.constant({ toJSON: (name: string) => `key ${name}` }) },
  ),
}));

// Thousands of shapes: past the key-order cache's 256, orders are also computed without it.
test('random values in the fields of a command have the old substance text', () => {
  fc.assert(
    fc.property(
      objectOf(value),
      fc.constantFrom('ORDER_CANCELLED', 'PAYMENT_CONFIRMED'),
      (fields, type) => {
        // A payment's substance picks its fields by name, so give them random values too.
        const picked = Object.fromEntries(
          [
            'gateway',
            'gatewayReference',
            'orderId',
            'milestoneId',
            'kind',
            'amount',
            'currency',
          ].map((name, index) => [name, Object.values(fields)[index]]),
        );
        const command = {
          type,
          eventId: 'e',
          ...(type === 'PAYMENT_CONFIRMED' ? picked : {}),
          ...fields,
        };
        expectReferenceText(command as unknown as EscrowCommand);
      },
    ),
    { numRuns: 5000 },
  );
});

test('a bigint anywhere is still refused with a TypeError', () => {
  const withBigint = (field: unknown) =>
    ({ type: 'ORDER_CANCELLED', eventId: 'e', orderId: 'o', field }) as unknown as EscrowCommand;
  for (const field of [1n, [1n], { a: { amount: 2n } }]) {
    expect(() => substanceOf(withBigint(field))).toThrow(TypeError);
    expect(() => substanceBeforeVersion2(withBigint(field))).toThrow(TypeError);
    expectReferenceText(withBigint(field));
  }
});
