// Money as an immutable pair of an ISO 4217 currency and an integer count of its
// minor units (cents for USD, yen for JPY, fils for KWD). The count is a bigint:
// a JS number silently loses whole units above 2^53, and decimal fractions never
// appear, so every sum and difference here is exact.

import { assertCurrency } from './currency';
import { MoneyError } from './errors';

export interface Money {
  readonly currency: string;
  readonly minor: bigint;
}

export function money(currency: string, minor: bigint): Money {
  assertCurrency(currency);
  // The type already says bigint; this catches a JS caller passing a number,
  // which is exactly the mistake this module exists to prevent.
  if (typeof minor !== 'bigint') {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `minor units must be a bigint, got ${typeof minor} (INVALID_AMOUNT): ` +
        'parse the amount with parseAmount or pass BigInt(...)',
    );
  }
  return Object.freeze({ currency, minor });
}

export function zero(currency: string): Money {
  return money(currency, 0n);
}

function assertSameCurrency(operation: string, a: Money, b: Money): void {
  if (a.currency === b.currency) return;
  throw new MoneyError(
    'CURRENCY_MISMATCH',
    `cannot ${operation} ${a.currency} and ${b.currency} (CURRENCY_MISMATCH): ` +
      'amounts combine only within one currency; use the currency the milestone was funded in',
  );
}

export function add(a: Money, b: Money): Money {
  assertSameCurrency('add', a, b);
  return money(a.currency, a.minor + b.minor);
}

export function subtract(a: Money, b: Money): Money {
  assertSameCurrency('subtract', a, b);
  return money(a.currency, a.minor - b.minor);
}

export function negate(a: Money): Money {
  return money(a.currency, -a.minor);
}

export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency('compare', a, b);
  if (a.minor < b.minor) return -1;
  return a.minor > b.minor ? 1 : 0;
}

export function isZero(a: Money): boolean {
  return a.minor === 0n;
}

export function isNegative(a: Money): boolean {
  return a.minor < 0n;
}

export function isPositive(a: Money): boolean {
  return a.minor > 0n;
}

/** The smaller of two amounts; `a` when they are equal. */
export function min(a: Money, b: Money): Money {
  assertSameCurrency('take the smaller of', a, b);
  return a.minor <= b.minor ? a : b;
}

/** The larger of two amounts; `a` when they are equal. */
export function max(a: Money, b: Money): Money {
  assertSameCurrency('take the larger of', a, b);
  return a.minor >= b.minor ? a : b;
}

/**
 * The total of a list, which may be empty. The currency is passed rather than
 * taken from the first element so that an empty list still has one, and so a
 * stray amount in another currency is caught rather than silently defining it.
 */
export function sum(currency: string, amounts: readonly Money[]): Money {
  let total = zero(currency);
  for (const amount of amounts) {
    assertSameCurrency('sum', total, amount);
    total = money(currency, total.minor + amount.minor);
  }
  return total;
}
