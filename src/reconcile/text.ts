/**
 * How the report writes amounts and durations, and how the command line reads
 * durations ("90s", "5m", "1h30m", "30d", "2w"). Pure.
 */
import { formatAmount, money } from '../domain/money';

/** "1000.00 USD" from minor units as pg returns them (strings); never through a JS number. */
export function amountText(minor: string | bigint, currency: string): string {
  const units = typeof minor === 'bigint' ? minor : BigInt(minor);
  try {
    return `${formatAmount(money(currency, units))} ${currency}`;
  } catch {
    // A currency the money module does not know (a corrupted row): still say what is there.
    return `${units.toString()} minor units of ${JSON.stringify(currency)}`;
  }
}

/** Amounts per currency, e.g. ["1500.00 USD", "20 JPY"], sorted by currency. */
export function amountsText(byCurrency: ReadonlyMap<string, bigint>): string[] {
  return [...byCurrency.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, minor]) => amountText(minor, currency));
}

const units = [
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
] as const;
const unitMs = new Map<string, number>(units);

export class DurationError extends Error {
  readonly code = 'INVALID_DURATION';
  readonly retryable = false;
  constructor(text: string) {
    super(
      `duration ${JSON.stringify(text)} is not understood: write a number and a unit ` +
        '(ms, s, m, h, d, w), or several, such as 90s, 5m, 1h30m, 30d',
    );
    this.name = 'DurationError';
  }
}

/** Milliseconds of "1h30m"-style text; throws a DurationError naming the rule. */
export function parseDuration(text: string): number {
  if (!/^(\d{1,9}(ms|s|m|h|d|w))+$/.test(text)) throw new DurationError(text);
  let total = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    total += Number(count) * unitMs.get(unit!)!;
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(text);
  return total;
}

/** The two largest units of a duration: "3d 4h", "45m", "12s", "0s". */
export function durationText(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [unit, size] of units) {
    if (unit === 'ms' || unit === 'w') continue;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0')).join(' ') || '0s';
}
