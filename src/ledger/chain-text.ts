/**
 * The hash chain's canonical text (chain.ts), written and hashed. Every
 * stored hash depends on the exact text, which was once built from
 * strings: Object.keys().filter().sort(), map and join per object, a
 * JSON.stringify of a fresh array per entry, the lines joined, then encoded
 * to UTF-8 for the hash — garbage on every transaction the worker writes.
 * The same text is now written as UTF-8 straight into one buffer that every
 * hash reuses (grown to the longest text yet) and hashed from there, each
 * object shape's key order sorted once (shapeOf). chain.property.test.ts
 * keeps the old implementation and compares the two on random values. What
 * the text keeps:
 * - every object is written as its own enumerable keys, all of them (array
 *   indexes like "10" too) in compareCodePoints order, a field whose value is
 *   undefined left out; toJSON is never asked, so a Date is `{}` (each field
 *   is read once where the old code read it twice: only a getter could tell);
 * - an array element that is undefined, a function or a symbol is null, and
 *   a hole is nothing at all (`[,1]`), as map and join wrote them;
 * - anything else is JSON.stringify's text of it ("null" where it has none).
 *
 * A call writes after what is already there and gives the space back when
 * done, thrown or not, so a toJSON that hashes (nothing the worker writes
 * has one) cannot clobber its caller's text.
 */
import { hash } from 'node:crypto';
import { compareCodePoints } from '../domain/text/code-point-order';
import { keyOrderCache } from '../domain/text/key-order';

/** The canonical text's version: a new content rule is a new version, never an edit. */
const contentVersion = 'v1';

/** A ledger transaction's hashed content, every value as the text Postgres returns. */
export interface ChainedTransaction {
  readonly transactionId: string;
  readonly kind: string;
  readonly orderId: string | null;
  readonly milestoneId: string | null;
  readonly causeEventId: string;
  readonly causeTopic: string;
  readonly correctsTransactionId: string | null;
  readonly memo: unknown;
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ` (chainTimestampSql). */
  readonly createdAt: string;
  readonly entries: readonly ChainedEntry[];
}

export interface ChainedEntry {
  readonly accountId: string;
  readonly currency: string;
  readonly amountMinor: string;
  readonly balanceAfterMinor: string | null;
  readonly accountVersion: string | null;
}

/** The canonical JSON of a value (chain.ts canonicalJson). */
export const textOfValue = (value: unknown): string => written(() => writeValue(value));

/** The canonical content of a transaction (chain.ts canonicalContent). */
export const textOfContent = (transaction: ChainedTransaction): string =>
  written(() => writeContent(transaction));

/** SHA-256 (hex) of the previous hash, a newline and the canonical content, from the buffer. */
export function hashOfContent(previousHash: string, transaction: ChainedTransaction): string {
  const start = length;
  const boundsStart = boundsUsed;
  try {
    writeText(previousHash);
    writeByte(newline);
    writeContent(transaction);
    // One call on the bytes: no Hash object, no string to encode.
    return hash('sha256', bytes.subarray(start, length), 'hex');
  } finally {
    length = start;
    boundsUsed = boundsStart;
  }
}

let bytes = Buffer.allocUnsafeSlow(4096);
let length = 0;

const quote = 0x22;
const comma = 0x2c;
const newline = 0x0a;

/** What `write` wrote, as a string. */
function written(write: () => void): string {
  const start = length;
  const boundsStart = boundsUsed;
  try {
    write();
    return bytes.toString('utf8', start, length);
  } finally {
    length = start;
    boundsUsed = boundsStart;
  }
}

function reserve(byteCount: number) {
  if (length + byteCount <= bytes.length) return;
  const larger = Buffer.allocUnsafeSlow(Math.max(2 * bytes.length, length + byteCount));
  bytes.copy(larger, 0, 0, length);
  bytes = larger;
}

function writeByte(byte: number) {
  reserve(1);
  bytes[length++] = byte;
}

/** A text as it is, in UTF-8 (a lone surrogate as U+FFFD, as Hash.update encoded it). */
function writeText(text: string) {
  reserve(3 * text.length);
  const start = length;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) {
      length = start + bytes.write(text, start, 'utf8');
      return;
    }
    bytes[length++] = unit;
  }
}

/** A string as JSON.stringify writes it; ASCII that needs no escape is copied as it is. */
function writeString(text: string) {
  reserve(text.length + 2);
  const start = length;
  bytes[length++] = quote;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x20 || unit === quote || unit === 0x5c || unit >= 0x80) {
      length = start;
      writeText(JSON.stringify(text));
      return;
    }
    bytes[length++] = unit;
  }
  bytes[length++] = quote;
}

function writeValue(value: unknown) {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      // JSON.stringify's rendering: the shortest round-trip text, -0 as 0.
      return writeText(Number.isFinite(value) ? String(value) : 'null');
    case 'boolean':
      return writeText(value ? 'true' : 'false');
    case 'object':
      if (value === null) return writeText('null');
      return Array.isArray(value)
        ? writeArray(value as readonly unknown[])
        : writeObject(value as Record<string, unknown>);
    default:
      // undefined, a symbol or a function (asked for its toJSON), a bigint (refused).
      return writeText(JSON.stringify(value) ?? 'null');
  }
}

function writeArray(array: readonly unknown[]) {
  writeByte(0x5b);
  for (let index = 0; index < array.length; index++) {
    if (index > 0) writeByte(comma);
    const element = array[index];
    // map skipped a hole and join wrote it as nothing; an undefined element is null.
    if (element !== undefined || index in array) writeValue(element);
  }
  writeByte(0x5d);
}

function writeObject(object: Record<string, unknown>) {
  const { keys, labels } = shapeOf(object);
  writeByte(0x7b);
  let first = true;
  for (let index = 0; index < keys.length; index++) {
    const field = object[keys[index]!];
    if (field === undefined) continue;
    if (!first) writeByte(comma);
    first = false;
    writeText(labels[index]!);
    writeValue(field);
  }
  writeByte(0x7d);
}

/**
 * Each memo shape's key order is sorted once (key-order.ts): memos come in a
 * few shapes, a handful per ledger kind. The order is compareCodePoints over
 * all the keys, array indexes included (they are not put first, as
 * Object.keys lists them), so skipping the undefined fields afterwards gives
 * the order the old filter-then-sort gave.
 */
const shapeOf = keyOrderCache((keys) => [...keys].sort(compareCodePoints));

function writeContent(transaction: ChainedTransaction) {
  writeText(contentVersion);
  writeByte(newline);
  writeColumns(transaction);
  writeByte(newline);
  writeValue(transaction.memo);
  writeByte(newline);
  writeEntries(transaction.entries);
}

/** The columns as the JSON array of them. */
function writeColumns(transaction: ChainedTransaction) {
  const {
    transactionId,
    kind,
    orderId,
    milestoneId,
    causeEventId,
    causeTopic,
    correctsTransactionId,
    createdAt,
  } = transaction;
  if (
    !isTextOrNull(transactionId) ||
    !isTextOrNull(kind) ||
    !isTextOrNull(orderId) ||
    !isTextOrNull(milestoneId) ||
    !isTextOrNull(causeEventId) ||
    !isTextOrNull(causeTopic) ||
    !isTextOrNull(correctsTransactionId) ||
    !isTextOrNull(createdAt)
  )
    return writeText(
      JSON.stringify([
        transactionId,
        kind,
        orderId,
        milestoneId,
        causeEventId,
        causeTopic,
        correctsTransactionId,
        createdAt,
      ]),
    );
  writeByte(0x5b);
  writeTextOrNull(transactionId);
  writeByte(comma);
  writeTextOrNull(kind);
  writeByte(comma);
  writeTextOrNull(orderId);
  writeByte(comma);
  writeTextOrNull(milestoneId);
  writeByte(comma);
  writeTextOrNull(causeEventId);
  writeByte(comma);
  writeTextOrNull(causeTopic);
  writeByte(comma);
  writeTextOrNull(correctsTransactionId);
  writeByte(comma);
  writeTextOrNull(createdAt);
  writeByte(0x5d);
}

/** Where each entry's text starts and ends while they are sorted: a stack like `bytes`. */
let entryBounds = new Int32Array(64);
let boundsUsed = 0;

/**
 * The entries, each as the JSON array of its values, in compareCodePoints
 * order: by their UTF-8 bytes, which order as the code points do (the texts
 * are well-formed, every string in them escaped by JSON's rules). Each is
 * written past the line and its bounds insertion-sorted (a transaction has
 * two or three), then they are copied into the line in that order.
 */
function writeEntries(entries: readonly ChainedEntry[]) {
  const first = boundsUsed;
  if (entryBounds.length < first + 2 * entries.length) {
    const larger = new Int32Array(2 * (first + 2 * entries.length));
    larger.set(entryBounds.subarray(0, first));
    entryBounds = larger;
  }
  boundsUsed += 2 * entries.length;
  const lineStart = length;
  for (let index = 0; index < entries.length; index++) {
    const start = length;
    writeEntry(entries[index]!);
    // Read after the entry is written: a nested hash may have grown it.
    const bounds = entryBounds;
    let place = first + 2 * index;
    for (
      ;
      place > first && compareBytes(bounds[place - 2]!, bounds[place - 1]!, start, length) > 0;
      place -= 2
    ) {
      bounds[place] = bounds[place - 2]!;
      bounds[place + 1] = bounds[place - 1]!;
    }
    bounds[place] = start;
    bounds[place + 1] = length;
  }
  const line = length;
  reserve(line - lineStart + entries.length + 1);
  writeByte(0x5b);
  for (let place = first; place < boundsUsed; place += 2) {
    if (place > first) writeByte(comma);
    length += bytes.copy(bytes, length, entryBounds[place], entryBounds[place + 1]);
  }
  writeByte(0x5d);
  length = lineStart + bytes.copy(bytes, lineStart, line, length);
  boundsUsed = first;
}

function compareBytes(leftStart: number, leftEnd: number, rightStart: number, rightEnd: number) {
  const shorter = Math.min(leftEnd - leftStart, rightEnd - rightStart);
  for (let offset = 0; offset < shorter; offset++) {
    const difference = bytes[leftStart + offset]! - bytes[rightStart + offset]!;
    if (difference !== 0) return difference;
  }
  return leftEnd - leftStart - (rightEnd - rightStart);
}

function writeEntry(entry: ChainedEntry) {
  const { accountId, currency, amountMinor, balanceAfterMinor, accountVersion } = entry;
  if (
    !isTextOrNull(accountId) ||
    !isTextOrNull(currency) ||
    !isTextOrNull(amountMinor) ||
    !isTextOrNull(balanceAfterMinor) ||
    !isTextOrNull(accountVersion)
  )
    return writeText(
      JSON.stringify([accountId, currency, amountMinor, balanceAfterMinor, accountVersion]),
    );
  writeByte(0x5b);
  writeTextOrNull(accountId);
  writeByte(comma);
  writeTextOrNull(currency);
  writeByte(comma);
  writeTextOrNull(amountMinor);
  writeByte(comma);
  writeTextOrNull(balanceAfterMinor);
  writeByte(comma);
  writeTextOrNull(accountVersion);
  writeByte(0x5d);
}

/*
 * The columns are text or null, and are written directly. A value of another
 * type (which no caller passes) takes the old route, the whole array through
 * JSON.stringify, so its text is the same as ever: undefined written null, a
 * toJSON asked with its index as the key.
 */
const isTextOrNull = (value: unknown) => value === null || typeof value === 'string';

function writeTextOrNull(value: string | null) {
  if (value === null) writeText('null');
  else writeString(value);
}
