/**
 * The chain's canonical text is written as UTF-8 straight into a reused
 * buffer now, no longer built from strings with sort, map, join and a
 * JSON.stringify per entry. Every stored hash depends on that text, so the
 * writer must give the old text byte for byte: these tests compare
 * `canonicalJson`, `canonicalContent` and `chainHash` with the old
 * implementation, kept here as the reference, on transactions as the worker
 * writes them and on random ones: memo keys that sort differently by code
 * point and by UTF-16 unit, that differ only in case, integer-like keys,
 * strings needing escapes or holding lone surrogates, numbers JSON has no
 * text for, undefined, holes, Dates, toJSON methods, entries in any order
 * with null balances and versions, columns of the wrong type.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  type ChainedEntry,
  type ChainedTransaction,
  canonicalContent,
  canonicalJson,
  chainHash,
} from '../../../src/ledger/chain';
import { compareCodePoints } from '../../../src/domain/text/code-point-order';

// ---------------------------------------------------------------------------
// The reference: src/ledger/chain.ts as it was before the writer, unchanged
// but for the names. Do not "fix" it: it is what stored hashes hold.

function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareCodePoints);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${referenceCanonicalJson(record[key])}`).join(',')}}`;
}

function referenceCanonicalContent(transaction: ChainedTransaction): string {
  const entries = transaction.entries
    .map((entry) =>
      JSON.stringify([
        entry.accountId,
        entry.currency,
        entry.amountMinor,
        entry.balanceAfterMinor,
        entry.accountVersion,
      ]),
    )
    .sort(compareCodePoints);
  return [
    'v1',
    JSON.stringify([
      transaction.transactionId,
      transaction.kind,
      transaction.orderId,
      transaction.milestoneId,
      transaction.causeEventId,
      transaction.causeTopic,
      transaction.correctsTransactionId,
      transaction.createdAt,
    ]),
    referenceCanonicalJson(transaction.memo),
    `[${entries.join(',')}]`,
  ].join('\n');
}

function referenceChainHash(previousHash: string, transaction: ChainedTransaction): string {
  return createHash('sha256')
    .update(previousHash)
    .update('\n')
    .update(referenceCanonicalContent(transaction))
    .digest('hex');
}

// ---------------------------------------------------------------------------

/** The result, or the class of what was thrown: a bigint must still be refused. */
function outcome<T>(compute: () => T) {
  try {
    return { result: compute() };
  } catch (error) {
    return { thrown: (error as Error).constructor.name };
  }
}

/** Text and hash as the reference gives them, twice (the second time each shape's order is cached). */
function expectReferenceChain(previousHash: string, transaction: ChainedTransaction) {
  for (let call = 0; call < 2; call++) {
    expect(outcome(() => canonicalJson(transaction.memo))).toEqual(
      outcome(() => referenceCanonicalJson(transaction.memo)),
    );
    expect(outcome(() => canonicalContent(transaction))).toEqual(
      outcome(() => referenceCanonicalContent(transaction)),
    );
    expect(outcome(() => chainHash(previousHash, transaction))).toEqual(
      outcome(() => referenceChainHash(previousHash, transaction)),
    );
  }
}

test('a transaction hashes to the hash it had before the writer', () => {
  const transaction: ChainedTransaction = {
    transactionId: '1042',
    kind: 'RELEASE',
    orderId: 'o-17',
    milestoneId: 'm-1',
    causeEventId: 'evt-9',
    causeTopic: 'escrow.milestone-reached.v1',
    correctsTransactionId: null,
    memo: {
      originalAmount: '1250.00',
      feePolicyId: 'fp-2026',
      feeRate: '0.05',
      minimumFeeApplied: false,
      recoveredAmount: '0.00',
      note: 'é "quoted" \u{1F600}',
    },
    createdAt: '2026-12-07T10:11:12.123456Z',
    entries: [
      {
        accountId: '12',
        currency: 'USD',
        amountMinor: '-125000',
        balanceAfterMinor: '0',
        accountVersion: '4',
      },
      {
        accountId: '3',
        currency: 'USD',
        amountMinor: '6250',
        balanceAfterMinor: null,
        accountVersion: null,
      },
      {
        accountId: '7',
        currency: 'USD',
        amountMinor: '118750',
        balanceAfterMinor: '118750',
        accountVersion: '1',
      },
    ],
  };
  // Computed by the implementation before the writer: a hash the ledger holds.
  const stored = 'e3b401f390d19950a800de332901e0035251b2ba43449fe3fdbb8a0f916942c6';
  expect(chainHash('', transaction)).toBe(stored);
  expectReferenceChain('', transaction);
});

// Transactions as post-transactions.ts and reconciliation's read build them.

const digits = (max: number) => fc.nat({ max }).map(String);
const reference = fc.stringMatching(/^[a-z]{2,3}_[0-9A-Za-z]{4,14}$/);
const realMemo = fc.oneof(
  fc.record({
    paymentKind: fc.constantFrom('DEPOSIT', 'INSTALLMENT', 'FINAL', 'SERVICE_FEE'),
    gateway: fc.constantFrom('stripe', 'adyen'),
    gatewayReference: reference,
  }),
  fc.record({ gateway: fc.constantFrom('stripe', 'adyen'), gatewayReference: reference }),
  fc.record({
    originalAmount: fc.constantFrom('1250.00', '300', '0.01'),
    feePolicyId: fc.constantFrom('fp-2026', 'default'),
    feeRate: fc.constantFrom('0.05', '0.125'),
    minimumFeeApplied: fc.boolean(),
    recoveredAmount: fc.constantFrom('0.00', '12.50'),
  }),
  fc.record({
    outcomeId: reference,
    gateway: fc.constant('stripe'),
    gatewayReference: reference,
  }),
  fc.record({ disputeId: reference }),
  fc.record({
    reason: fc.constantFrom('BUYER_REQUEST', 'CANCELLED'),
    originalAmount: fc.constantFrom('300.00'),
    refundAmount: fc.constantFrom('120.00'),
  }),
  fc.constant({}),
);
const realEntry: fc.Arbitrary<ChainedEntry> = fc.record({
  accountId: digits(5000),
  currency: fc.constantFrom('USD', 'EUR', 'JPY'),
  amountMinor: fc.integer({ min: -1e9, max: 1e9 }).map(String),
  balanceAfterMinor: fc.option(fc.nat({ max: 1e9 }).map(String)),
  accountVersion: fc.option(digits(1e4)),
});
const realTransaction: fc.Arbitrary<ChainedTransaction> = fc.record({
  transactionId: digits(1e9),
  kind: fc.constantFrom('FUNDING', 'RELEASE', 'SERVICE_FEE', 'REFUND', 'CHARGEBACK'),
  orderId: fc.option(reference),
  milestoneId: fc.option(reference),
  causeEventId: reference,
  causeTopic: fc.constantFrom('escrow.payment-confirmed.v1', 'escrow.milestone-reached.v1'),
  correctsTransactionId: fc.option(digits(1e9)),
  // Written from a draft, or read back from jsonb (its own key order).
  memo: fc
    .tuple(realMemo, fc.boolean())
    .map(([memo, stored]) => (stored ? (JSON.parse(JSON.stringify(memo)) as object) : memo)),
  createdAt: fc
    .date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
    .map((date) => date.toISOString().replace('Z', '123Z')),
  entries: fc.array(realEntry, { minLength: 1, maxLength: 4 }),
});
const hexHash = fc.oneof(
  fc.constant(''),
  fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((bytes) => Buffer.from(bytes).toString('hex')),
);

test('transactions as the worker writes them have the old text and hash', () => {
  fc.assert(
    fc.property(hexHash, realTransaction, (previousHash, transaction) => {
      expectReferenceChain(previousHash, transaction);
    }),
    { numRuns: 3000 },
  );
});

// Random values.

const tricky = [
  '',
  'a',
  'A',
  'b',
  'B',
  'key',
  'Key',
  'KEY',
  'é',
  'e\u0301',
  'z',
  '_',
  '-',
  '0',
  '1',
  '2',
  '10',
  '01',
  '-1',
  '1.5',
  '4294967294',
  '4294967295',
  '__proto__',
  'toJSON',
  'constructor',
  'a"b',
  'a\\b',
  'a\u0000b',
  '\n',
  '\u007f',
  '\u2028',
  '\ud800',
  '\udfff',
  '\ud800x',
  '\uE000',
  '\uFF01',
  '\uFFFF',
  '\u{10000}',
  '\u{1F600}',
  'm-\u{1F600}',
  'm-\uFF01',
];
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...tricky) },
  { weight: 1, arbitrary: fc.nat({ max: 30 }).map(String) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);
const escapes = fc.constantFrom(
  '"',
  '\\',
  '/',
  '\u0000',
  '\b',
  '\f',
  '\n',
  '\r',
  '\t',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u2028',
  '\ud800',
  '\udfff',
  '\uFF01',
  '\ud83d\ude00',
  'a',
  'é',
  '0',
);
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 2, arbitrary: fc.string({ unit: escapes, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(...tricky) },
);
const number = fc.oneof(
  fc.double(), // -0, NaN and both infinities among them
  fc.integer(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 1e21, -1e21, 1e-7, 123e-20, 2 ** 53 + 2, 0.1 + 0.2),
  fc.constantFrom(Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER),
);
const leaf = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(() => 'a function') },
  // A function is asked for its toJSON by JSON.stringify; an object is not (it is its keys).
  { weight: 1, arbitrary: fc.constant(Object.assign(() => 'a function', { toJSON: () => 'f' })) },
  { weight: 1, arbitrary: fc.constant({ toJSON: () => 'ignored' }) },
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
    { weight: 3, arbitrary: objectOf(tie('value')) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
    // Holes: map skipped them and join wrote them as nothing.
    { weight: 1, arbitrary: fc.sparseArray(tie('value'), { maxLength: 5 }) },
  ),
}));

/** Texts whose order differs by code point and by UTF-16 unit, and that tie. */
const column = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', '\uFF01', '\u{1F600}', 'é', '"', '\\', '') },
  { weight: 2, arbitrary: text },
);
const nullableColumn = fc.option(column);
/** What no caller passes, which must still give the old text: JSON.stringify's in an array. */
const wronglyTyped = fc.constantFrom<unknown>(
  undefined,
  7,
  -0,
  NaN,
  true,
  new Date(0),
  { nested: 'object' },
  ['array'],
  () => 'a function',
  Symbol('a symbol'),
  { toJSON: (index: string) => `toJSON of ${index}` },
);
const anyColumn = (ordinary: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 12, arbitrary: ordinary }, { weight: 1, arbitrary: wronglyTyped });

const randomEntry = fc.record({
  accountId: anyColumn(column),
  currency: anyColumn(column),
  amountMinor: anyColumn(column),
  balanceAfterMinor: anyColumn(nullableColumn),
  accountVersion: anyColumn(nullableColumn),
}) as fc.Arbitrary<ChainedEntry>;

const randomTransaction = fc.record({
  transactionId: anyColumn(column),
  kind: anyColumn(column),
  orderId: anyColumn(nullableColumn),
  milestoneId: anyColumn(nullableColumn),
  causeEventId: anyColumn(column),
  causeTopic: anyColumn(column),
  correctsTransactionId: anyColumn(nullableColumn),
  memo: fc.oneof({ weight: 4, arbitrary: objectOf(value) }, { weight: 1, arbitrary: value }),
  createdAt: anyColumn(column),
  entries: fc.array(randomEntry, { maxLength: 6 }),
}) as fc.Arbitrary<ChainedTransaction>;

/** A previous hash is hex, but the old hashing took any text: lone surrogates too. */
const previousHash = fc.oneof(hexHash, fc.string({ unit: 'binary', maxLength: 6 }), text);

// Thousands of shapes: past the cache's 256, orders are also sorted without it.
test('random transactions have the old text and hash', () => {
  fc.assert(
    fc.property(previousHash, randomTransaction, (previous, transaction) => {
      expectReferenceChain(previous, transaction);
    }),
    { numRuns: 5000 },
  );
});

test('a bigint in a memo or a column is still refused with a TypeError', () => {
  const base = fc.sample(realTransaction, { numRuns: 1, seed: 7 })[0]!;
  const withBigint: ChainedTransaction[] = [
    { ...base, memo: { amount: 1n } },
    { ...base, memo: [1n] },
    { ...base, transactionId: 1n as unknown as string },
    { ...base, entries: [{ ...base.entries[0]!, balanceAfterMinor: 2n as unknown as string }] },
  ];
  for (const transaction of withBigint) {
    expect(() => chainHash('', transaction)).toThrow(TypeError);
    expectReferenceChain('', transaction);
  }
  // After the failed writes, the next hash is still the reference's.
  expect(chainHash('', base)).toBe(referenceChainHash('', base));
});

test('long texts and many entries, past the sizes the writer starts with, keep the old text', () => {
  const base = fc.sample(realTransaction, { numRuns: 1, seed: 11 })[0]!;
  const long: ChainedTransaction = {
    ...base,
    memo: { note: 'x'.repeat(100_000), other: 'é\u{1F600}'.repeat(20_000), list: [1, 2, 3] },
    entries: Array.from({ length: 200 }, (_, index) => ({
      accountId: String((index * 7919) % 200),
      currency: index % 3 === 0 ? 'EUR' : 'USD',
      amountMinor: String(index - 100),
      balanceAfterMinor: index % 2 === 0 ? null : 'y'.repeat(index * 50),
      accountVersion: index % 5 === 0 ? null : String(index),
    })),
  };
  expectReferenceChain('a'.repeat(64), long);
  expectReferenceChain('', base);
});

test('a toJSON that hashes another transaction while one is written leaves that one intact', () => {
  // Foreign code runs inside the writer only through toJSON (of a function in
  // a memo, or of a column of the wrong type); here it hashes transactions
  // large enough to grow the writer's buffers under the outer one, the
  // second larger than the first.
  const [outer, inner] = fc.sample(realTransaction, { numRuns: 2, seed: 3 }) as [
    ChainedTransaction,
    ChainedTransaction,
  ];
  const larger = (size: number): ChainedTransaction => ({
    ...inner,
    memo: { note: 'z'.repeat(50_000 * size) },
    entries: Array.from({ length: 100 * size }, (_, index) => ({
      ...inner.entries[0]!,
      accountId: String(index % 7),
    })),
  });
  const nesting = (hashOf: typeof chainHash): ChainedTransaction => ({
    ...outer,
    memo: {
      ...(outer.memo as object),
      nested: Object.assign(() => 0, { toJSON: () => hashOf('', larger(1)) }),
    },
    entries: [
      ...outer.entries,
      {
        ...outer.entries[0]!,
        accountVersion: { toJSON: () => hashOf('p', larger(4)) } as unknown as string,
      },
      ...outer.entries,
    ],
  });
  expect(chainHash('q', nesting(chainHash))).toBe(
    referenceChainHash('q', nesting(referenceChainHash)),
  );
  expect(canonicalContent(nesting(chainHash))).toBe(
    referenceCanonicalContent(nesting(referenceChainHash)),
  );
});
