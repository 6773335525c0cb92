// Scaling an amount by a rate (the platform fee) or by a ratio of two amounts
// (a partial refund shrinking the pending fee). Both are computed as an exact
// fraction of bigints and rounded once, half-up, to the minor unit.
//
// Why not decimal.js arithmetic: with a fixed precision (even 60 digits) a product
// or quotient can be rounded to that precision first and then to the minor unit,
// and a double rounding can move a result by one minor unit. Integer arithmetic
// has no precision ceiling, so the single rounding below is the only one.
// decimal.js is still accepted for the rate, and its representation is read
// exactly (toFixed without arguments does not round).

import Decimal from 'decimal.js';
import { MoneyError, quoteInput } from './errors';
import { money, type Money } from './money';

/**
 * numerator / denominator rounded to the nearest integer, a tie going away from
 * zero (2.5 → 3, -2.5 → -3). That is "half-up" as decimal.js's ROUND_HALF_UP and
 * most accounting texts define it; it keeps rounding symmetric, so the fee on a
 * reversal is exactly the negation of the fee on the original.
 */
export function divideRoundingHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('divideRoundingHalfUp: denominator is zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = n / d;
  const rounded = 2n * (n % d) >= d ? quotient + 1n : quotient;
  return negative ? -rounded : rounded;
}

// The same plain-decimal grammar as amounts; rates come from configuration and
// fee policies, where "1e-1" or "0,10" would be a typo rather than an intent.
const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const LONGEST_RATE = 100;

/** A rate as an exact fraction: "0.125" is 125 / 1000. */
function rateAsFraction(rate: string | Decimal): { numerator: bigint; denominator: bigint } {
  let text: string;
  if (Decimal.isDecimal(rate)) {
    if (!rate.isFinite()) throw invalidRate(rate.toString());
    text = rate.toFixed();
  } else {
    text = rate;
  }
  const parts =
    typeof text === 'string' && text.length <= LONGEST_RATE ? PLAIN_DECIMAL.exec(text) : null;
  if (parts === null) throw invalidRate(String(text));
  const [, sign = '', integerPart = '', fractionPart = ''] = parts;
  const magnitude = BigInt(integerPart + fractionPart);
  return {
    numerator: sign === '-' ? -magnitude : magnitude,
    denominator: 10n ** BigInt(fractionPart.length),
  };
}

function invalidRate(text: string): MoneyError {
  return new MoneyError(
    'INVALID_AMOUNT',
    `rate ${quoteInput(text)} is not a finite plain decimal (INVALID_AMOUNT): ` +
      `write it like "0.10", at most ${LONGEST_RATE} characters`,
  );
}

/**
 * amount × rate, rounded half-up to the currency's minor unit:
 * 1000.00 USD × 0.10 = 100.00; 0.05 USD × 0.10 = 0.005 → 0.01; 333 JPY × 0.10 = 33.
 */
export function multiplyByRate(amount: Money, rate: string | Decimal): Money {
  const { numerator, denominator } = rateAsFraction(rate);
  return money(amount.currency, divideRoundingHalfUp(amount.minor * numerator, denominator));
}

/**
 * amount × numerator / denominator, rounded half-up to the minor unit. Used when a
 * partial refund shrinks what was computed on the whole: a 100.00 fee on a 1000.00
 * milestone becomes 100.00 × 500.00 / 1000.00 = 50.00 after 500.00 is refunded.
 * All three must share a currency, so the ratio is dimensionless.
 */
export function proportion(amount: Money, numerator: Money, denominator: Money): Money {
  for (const other of [numerator, denominator]) {
    if (other.currency !== amount.currency) {
      throw new MoneyError(
        'CURRENCY_MISMATCH',
        `cannot take a proportion of ${amount.currency} by a ratio in ${other.currency} ` +
          '(CURRENCY_MISMATCH): the amount and both sides of the ratio must share a currency',
      );
    }
  }
  if (denominator.minor === 0n) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      'proportion with a zero denominator (INVALID_AMOUNT): ' +
        'the amount the ratio is taken of must not be zero; handle the empty case before scaling',
    );
  }
  return money(
    amount.currency,
    divideRoundingHalfUp(amount.minor * numerator.minor, denominator.minor),
  );
}
