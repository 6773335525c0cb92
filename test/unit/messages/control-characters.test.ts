/**
 * Ids refuse control characters and free text refuses NUL, in the validator:
 * Postgres text cannot store NUL (SQLSTATE 22021), so without this rule such
 * a message passed validation, failed at the inbox insert and was
 * dead-lettered as a processing failure, which the runbook reads as a worker
 * defect to fix and replay. Now it is INVALID, naming the field, the rule and
 * the fix.
 */
import fc from 'fast-check';
import { consumers } from '../../../consumers';
import {
  describeIssues,
  disputeMessage,
  orderMessage,
  paymentConfirmedMessage,
} from '../../../src/messages/inbound';
import { validMessages } from '../../support/messages';

const [opened, refund] = validMessages['escrow.orders.v1'];
const [payment] = validMessages['escrow.payment-confirmed.v1'];
const [dispute] = validMessages['escrow.disputes.v1'];

type ParseResult = { success: boolean; error?: Parameters<typeof describeIssues>[0] };
const problemsOf = (result: ParseResult) =>
  result.error === undefined ? '' : describeIssues(result.error);

test('a NUL in an eventId is invalid, naming the field, the character, its position and the fix', () => {
  const result = paymentConfirmedMessage.safeParse({ ...payment, eventId: 'bad-nul-1\u0000x' });
  expect(result.success).toBe(false);
  expect(problemsOf(result)).toBe(
    'eventId must not contain control characters (found U+0000 at character 10): ' +
      'an id is printable text, so remove the control character where the event is produced',
  );
});

test.each([
  ['NUL', '\u0000'],
  ['a tab', '\t'],
  ['a line feed', '\n'],
  ['a carriage return', '\r'],
  ['ESC', '\u001b'],
  ['DEL', '\u007f'],
  ['the C1 NEL', '\u0085'],
  ['the last C1 control', '\u009f'],
])('%s in any id of any topic is refused', (_, control) => {
  const id = `id-${control}-1`;
  const cases: [string, { safeParse(value: unknown): ParseResult }, object][] = [
    ['orderId', orderMessage, { ...opened, orderId: id }],
    ['buyerId', orderMessage, { ...opened, buyerId: id }],
    [
      'milestones.0.milestoneId',
      orderMessage,
      { ...opened, milestones: [{ ...opened.milestones[0], milestoneId: id }] },
    ],
    ['gateway', paymentConfirmedMessage, { ...payment, gateway: id }],
    ['gatewayReference', paymentConfirmedMessage, { ...payment, gatewayReference: id }],
    ['disputeId', disputeMessage, { ...dispute, disputeId: id }],
    ['actor', disputeMessage, { ...dispute, actor: id }],
  ];
  for (const [field, validator, message] of cases) {
    const result = validator.safeParse(message);
    expect(problemsOf(result)).toMatch(
      new RegExp(
        `^${field.replace(/\./g, '\\.')} must not contain control characters \\(found U\\+`,
      ),
    );
  }
});

test('printable text beyond ASCII stays valid in ids: accents, CJK, emoji, and U+00A0 after the C1 block', () => {
  for (const orderId of ['bestellung-müller', '注文-1', 'order-🚀', 'order\u00a0nbsp']) {
    expect(orderMessage.safeParse({ ...opened, orderId }).success).toBe(true);
  }
});

test('free text keeps tabs and line breaks but refuses NUL, which Postgres text cannot store', () => {
  expect(orderMessage.safeParse({ ...refund, reason: 'half done:\n\tsee ticket' }).success).toBe(
    true,
  );
  const withNul = orderMessage.safeParse({ ...refund, reason: 'half\u0000done' });
  expect(problemsOf(withNul)).toBe(
    'reason must not contain the NUL character (found U+0000 at character 5), which Postgres ' +
      'text cannot store: remove it where the event is produced',
  );
  const disputed = disputeMessage.safeParse({ ...dispute, reason: '\u0000' });
  expect(problemsOf(disputed)).toMatch(/^reason must not contain the NUL character/);
});

test('the position counts characters, not UTF-16 units: an emoji before the NUL is one', () => {
  const result = orderMessage.safeParse({ ...opened, eventId: '🚀\u0000' });
  expect(problemsOf(result)).toMatch(/found U\+0000 at character 2\)/);
});

test('a control character after an emoji is named by its position in characters, in the full text', () => {
  const result = paymentConfirmedMessage.safeParse({ ...payment, gatewayReference: 'ch_🚀\t1' });
  expect(problemsOf(result)).toBe(
    'gatewayReference must not contain control characters (found U+0009 at character 5): ' +
      'an id is printable text, so remove the control character where the event is produced',
  );
});

test('the issue is a custom one naming the field, as superRefine made it', () => {
  const result = orderMessage.safeParse({ ...refund, orderId: 'order-\u0085', reason: 'a\u0000' });
  expect(result.success).toBe(false);
  expect(result.error!.issues).toStrictEqual([
    {
      code: 'custom',
      path: ['orderId'],
      message:
        'must not contain control characters (found U+0085 at character 7): an id is printable ' +
        'text, so remove the control character where the event is produced',
    },
    {
      code: 'custom',
      path: ['reason'],
      message:
        'must not contain the NUL character (found U+0000 at character 2), which Postgres text ' +
        'cannot store: remove it where the event is produced',
    },
  ]);
});

test('every problem is named: a control character does not hide the length or a missing field, nor they it', () => {
  const tooLong = paymentConfirmedMessage.safeParse({
    ...payment,
    eventId: `${'e'.repeat(200)}\u0000`,
  });
  expect(problemsOf(tooLong)).toBe(
    'eventId must be at most 200 characters; eventId must not contain control characters ' +
      '(found U+0000 at character 201): an id is printable text, so remove the control ' +
      'character where the event is produced',
  );
  const missing = orderMessage.safeParse({ ...refund, eventId: 'evt\u001b', reason: null });
  expect(problemsOf(missing)).toBe(
    'eventId must not contain control characters (found U+001B at character 4): an id is ' +
      'printable text, so remove the control character where the event is produced; ' +
      'reason is required for REFUND_REQUESTED events',
  );
});

test('the consumer turns it into a dead-letter reason for INVALID, not a processing failure', () => {
  const handler = consumers.find((consumer) => consumer.topic === 'escrow.payment-confirmed.v1')!;
  const parsed = handler.parse({ ...payment, eventId: 'evt\u0000' });
  expect(parsed).toEqual({
    ok: false,
    reason: expect.stringMatching(
      /^the message does not satisfy the escrow\.payment-confirmed\.v1 contract: eventId must not contain control characters/,
    ) as string,
  });
});

test('property: an id is refused exactly when it holds a C0, DEL or C1 control character', () => {
  const isControl = (code: number) => code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  // Controls drawn often enough to matter, among arbitrary code points and printable text.
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0xa0 }).map((code) => String.fromCodePoint(code)),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('a', 'ü', '🚀', '-'),
  );
  fc.assert(
    fc.property(fc.string({ unit, minLength: 1, maxLength: 50 }), (eventId) => {
      const hasControl = [...eventId].some((character) => isControl(character.codePointAt(0)!));
      const result = orderMessage.safeParse({ ...opened, eventId });
      expect(result.success).toBe(!hasControl);
    }),
  );
});

describe('id lengths equal the database CHECKs, counted in characters as Postgres counts them', () => {
  const emoji = '\u{1F600}'; // one character, two UTF-16 units
  test.each([
    ['gateway', 100],
    ['gatewayReference', 200],
    ['eventId', 200],
    ['orderId', 200],
  ])('%s takes %i characters and refuses one more', (field, longest) => {
    expect(
      paymentConfirmedMessage.safeParse({ ...payment, [field]: 'g'.repeat(longest) }).success,
    ).toBe(true);
    expect(
      paymentConfirmedMessage.safeParse({ ...payment, [field]: emoji.repeat(longest) }).success,
    ).toBe(true);
    for (const tooLong of ['g'.repeat(longest + 1), emoji.repeat(longest + 1)]) {
      const result = paymentConfirmedMessage.safeParse({ ...payment, [field]: tooLong });
      expect(problemsOf(result)).toBe(`${field} must be at most ${longest} characters`);
    }
  });
});
