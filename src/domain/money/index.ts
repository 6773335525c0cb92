// The money module: exact amounts in integer minor units, the wire format of
// amounts, rate and ratio scaling with half-up rounding, and exact allocation.
// Pure: no I/O and no clock.

export { MoneyError, type MoneyErrorCode } from './errors';
export { assertCurrency, currencyDigits, isKnownCurrency } from './currency';
export { iso4217MinorUnits } from './iso-4217';
export {
  add,
  compare,
  isNegative,
  isPositive,
  isZero,
  max,
  min,
  money,
  negate,
  subtract,
  sum,
  zero,
  type Money,
} from './money';
export {
  formatAmount,
  MAX_AMOUNT_DIGITS,
  parseAmount,
  type ParseAmountOptions,
} from './amount-text';
export { divideRoundingHalfUp, multiplyByRate, proportion } from './scaling';
export { allocate, allocateByAmounts } from './allocate';
