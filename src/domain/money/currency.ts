// Currencies and their minor-unit digits, from ISO 4217 List One (iso-4217.ts).
//
// Every active ISO code is known, including the fund, metal, SDR, testing and
// no-currency codes (CLF, UYW, XAU, XDR, XTS, XXX): a gateway may report any of
// them, and a payment in one must meet the same rules as any other currency
// (kept before its order, refunded as a mismatch after it), not fail as an
// unknown code. Codes withdrawn from the list (HRK, SLL, ZWL) are unknown.

import { MoneyError, quoteInput } from './errors';
import { iso4217MinorUnits } from './iso-4217';

/** True only for an upper-case alphabetic code on ISO 4217 List One. */
export function isKnownCurrency(code: string): boolean {
  return typeof code === 'string' && Object.hasOwn(iso4217MinorUnits, code);
}

export function assertCurrency(code: string): void {
  if (isKnownCurrency(code)) return;
  const shown = typeof code === 'string' ? quoteInput(code) : String(code);
  throw new MoneyError(
    'UNKNOWN_CURRENCY',
    `currency ${shown} is not an ISO 4217 code (UNKNOWN_CURRENCY): ` +
      'send an upper-case alphabetic code from ISO 4217 List One, such as "USD"',
  );
}

/**
 * Digits after the decimal point in the currency's major unit, ISO 4217's
 * minor unit: USD 2, JPY 0, KWD 3, CLF 4. A code whose minor unit the list
 * gives as "N.A." (XAU, XDR, XXX, ...) counts whole units: 0.
 */
export function currencyDigits(code: string): number {
  assertCurrency(code);
  return iso4217MinorUnits[code] ?? 0;
}
