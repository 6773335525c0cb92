// Currencies and their minor-unit digits, read from the ICU data built into Node
// rather than from a hand-kept table.
//
// Two limits of that data, on purpose accepted here:
// - `Intl.supportedValuesOf('currency')` lists the currencies in circulation; it
//   leaves out fund and metal codes (CLF, UYW, XAU) and the test code XXX, so those
//   count as unknown.
// - The digits are CLDR's display digits, which differ from ISO 4217's minor unit
//   for some currencies (HUF, IDR, COP, PKR, ... are 0 in CLDR). Gateways settle
//   in ISO minor units, so those currencies take their ISO 4217 value from
//   `isoMinorUnitsWhereCldrDiffers` below; a test pins every entry.

import { MoneyError, quoteInput } from './errors';

/** ISO 4217 minor units for the currencies whose CLDR display digits differ. */
export const isoMinorUnitsWhereCldrDiffers: Readonly<Record<string, number>> = {
  ALL: 2,
  COP: 2,
  HUF: 2,
  IDR: 2,
  IQD: 3,
  IRR: 2,
  KPW: 2,
  LAK: 2,
  LBP: 2,
  MGA: 2,
  MMK: 2,
  PKR: 2,
  SLL: 2,
  SOS: 2,
  SYP: 2,
  YER: 2,
};

let knownCurrencies: ReadonlySet<string> | undefined;
const digitsByCurrency = new Map<string, number>();

function supportedCurrencies(): ReadonlySet<string> {
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies;
}

/**
 * True only for an upper-case ISO 4217 code this runtime lists as supported.
 * Intl itself would accept "usd" or an invented "XYZ" (and answer 2 digits), so
 * the list is the gate, not Intl.NumberFormat.
 */
export function isKnownCurrency(code: string): boolean {
  return supportedCurrencies().has(code);
}

export function assertCurrency(code: string): void {
  if (typeof code === 'string' && isKnownCurrency(code)) return;
  const shown = typeof code === 'string' ? quoteInput(code) : String(code);
  throw new MoneyError(
    'UNKNOWN_CURRENCY',
    `currency ${shown} is not a known ISO 4217 code (UNKNOWN_CURRENCY): ` +
      'send an upper-case alphabetic code in circulation, such as "USD"',
  );
}

/** Digits after the decimal point in the currency's major unit: USD 2, JPY 0, KWD 3. */
export function currencyDigits(code: string): number {
  const cached = digitsByCurrency.get(code);
  if (cached !== undefined) return cached;
  assertCurrency(code);
  const digits =
    isoMinorUnitsWhereCldrDiffers[code] ??
    new Intl.NumberFormat('en', {
      style: 'currency',
      currency: code,
    }).resolvedOptions().maximumFractionDigits;
  // Intl types this as optional; for style 'currency' it is always set.
  if (digits === undefined) {
    throw new Error(`Intl gave no fraction digits for ${code}; the runtime's ICU data is broken`);
  }
  digitsByCurrency.set(code, digits);
  return digits;
}
