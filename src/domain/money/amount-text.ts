// The wire form of an amount: a decimal string in major units ("1000.00"), as
// CONTRACT.md fixes it. Parsing is strict on purpose. An amount that a human
// might read two ways (exponent, thousands separator, a "+", spaces) or that
// carries more precision than its currency has is refused with a reason, never
// guessed at or rounded: a payment system that rounds its inputs loses cents.

import { currencyDigits } from './currency';
import { MoneyError, quoteInput } from './errors';
import { money, type Money } from './money';

export interface ParseAmountOptions {
  /** Accept "0" / "0.00" (default: refused, a payment of nothing is a mistake). */
  readonly allowZero?: boolean;
  /** Accept a leading "-" (default: refused, inbound amounts are positive). */
  readonly allowNegative?: boolean;
}

/**
 * At most this many digits of minor units in an amount, counted after the
 * fraction is padded to the currency's digits ("99999999999999999" USD is 19:
 * 9,999,999,999,999,999,900 cents). 18 digits always fit the ledger's BIGINT
 * columns (9,223,372,036,854,775,807), with room for the sums of many of them;
 * the text itself may not carry more digits either.
 */
export const MAX_AMOUNT_DIGITS = 18;
const largestMinorUnits = 10n ** BigInt(MAX_AMOUNT_DIGITS) - 1n;

// No backtracking risk: each part matches a distinct character class.
const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Reads a major-unit decimal string into exact minor units.
 *
 * Rules, checked in this order: known currency; the shape `-?digits[.digits]`;
 * at most 30 digits; no more fractional digits than the currency has (trailing
 * zeros count: "10.000" USD is refused like "10.001", because the contract judges
 * the text, and a producer sending three digits for USD is likely confused about
 * the currency); a "-" only with `allowNegative` (so "-0.00" is refused too when
 * negatives are not allowed); zero only with `allowZero`. Fewer fractional digits
 * than the currency has are fine: "5" and "0.5" are 5.00 and 0.50 USD.
 */
export function parseAmount(text: string, currency: string, options?: ParseAmountOptions): Money {
  const digits = currencyDigits(currency);
  // The input is quoted (shown) only for a refusal: an accepted amount needs no message.

  // The cheap length check comes first so the regex never runs on huge input.
  const longestAccepted = MAX_AMOUNT_DIGITS + 2; // the digits, a "-" and a "."
  if (typeof text === 'string' && text.length > longestAccepted) {
    throw tooLarge(text, currency, digits);
  }
  const parts = typeof text === 'string' ? PLAIN_DECIMAL.exec(text) : null;
  if (parts === null) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `amount ${shown(text)} is not a plain decimal (INVALID_AMOUNT): ` +
        'write major units with an optional "-" and "." only, such as "1000.00", ' +
        'with no exponent, spaces, "+" or thousands separators',
    );
  }
  const [, sign = '', integerPart = '', fractionPart = ''] = parts;

  if (integerPart.length + fractionPart.length > MAX_AMOUNT_DIGITS) {
    throw tooLarge(text, currency, digits);
  }
  if (fractionPart.length > digits) {
    const fix =
      digits === 0
        ? `${currency} has no minor unit: send a whole number without a decimal point`
        : `send at most ${digits} digits after the point`;
    throw new MoneyError(
      'AMOUNT_PRECISION',
      `amount ${shown(text)} has ${fractionPart.length} fractional ` +
        `digit${fractionPart.length === 1 ? '' : 's'} but ${currency} ` +
        `allows ${digits} (AMOUNT_PRECISION): ${fix}`,
    );
  }
  if (sign === '-' && options?.allowNegative !== true) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `amount ${shown(text)} is negative (INVALID_AMOUNT): send a positive amount; ` +
        'the direction of a movement is given by the event type, not the sign',
    );
  }

  const magnitude = BigInt(integerPart + fractionPart.padEnd(digits, '0'));
  if (magnitude > largestMinorUnits) throw tooLarge(text, currency, digits);
  if (magnitude === 0n && options?.allowZero !== true) {
    throw new MoneyError(
      'INVALID_AMOUNT',
      `amount ${shown(text)} is zero (INVALID_AMOUNT): send a positive amount`,
    );
  }
  return money(currency, sign === '-' ? -magnitude : magnitude);
}

const shown = (text: unknown) => quoteInput(String(text));

function tooLarge(text: unknown, currency: string, digits: number): MoneyError {
  return new MoneyError(
    'INVALID_AMOUNT',
    `amount ${shown(text)} is too large (INVALID_AMOUNT): at most ${MAX_AMOUNT_DIGITS} digits of ` +
      `minor units fit, so send at most ${MAX_AMOUNT_DIGITS - digits} digits before the point in ${currency}`,
  );
}

/**
 * The canonical wire form: major units with exactly the currency's digits
 * ("1000.00" USD, "5" JPY, "1.500" KWD, "-0.05" USD). parseAmount reads it back
 * to the same value (with allowZero/allowNegative for zero and negatives).
 */
export function formatAmount(amount: Money): string {
  // Zero is the commonest amount of all (an outcome reports every balance of its
  // milestone): one text per currency, kept.
  if (amount.minor === 0n) return zeroText(amount.currency);
  const digits = currencyDigits(amount.currency);
  const sign = amount.minor < 0n ? '-' : '';
  const magnitude = (amount.minor < 0n ? -amount.minor : amount.minor).toString();
  if (digits === 0) return sign + magnitude;
  // Pad so there is always a digit before the point: 5 cents is "0.05" (most
  // amounts need no padding, which would copy the digits once more).
  const padded = magnitude.length > digits ? magnitude : magnitude.padStart(digits + 1, '0');
  const point = padded.length - digits;
  return sign + padded.slice(0, point) + '.' + padded.slice(point);
}

const zeroTexts = new Map<string, string>();

/** "0.00" USD, "0" JPY, "0.000" KWD; only for known currencies (checked once each). */
function zeroText(currency: string): string {
  let text = zeroTexts.get(currency);
  if (text === undefined) {
    const digits = currencyDigits(currency);
    text = digits === 0 ? '0' : `0.${'0'.repeat(digits)}`;
    zeroTexts.set(currency, text);
  }
  return text;
}
