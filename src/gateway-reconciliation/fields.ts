/**
 * The checks every format applies to the values it reads, each failure a
 * BadReportFile naming the line and the column (the file's own column name,
 * so a Stripe export's error names Stripe's column): references of 1 to 200
 * printable characters (the limit of every gateway reference the ledger
 * stores), amounts exact in the currency's digits, ISO 4217 codes the runtime
 * knows, and timestamps that name a real instant.
 */
import { isKnownCurrency, MoneyError, parseAmount } from '../domain/money';
import { findCharacter, isControl } from '../messages/inbound';
import { BadReportFile } from './report-line';

export function referenceField(value: string | undefined, line: number, column: string): string {
  const text = (value ?? '').trim();
  if (text.length === 0)
    throw new BadReportFile(line, column, 'is empty; every line needs the gateway reference');
  if ([...text].length > 200)
    throw new BadReportFile(
      line,
      column,
      'is longer than 200 characters, the longest reference the ledger stores',
    );
  // The same characters the inbound topics refuse in an id (src/messages/inbound.ts).
  if (findCharacter(text, isControl) !== undefined)
    throw new BadReportFile(
      line,
      column,
      'contains a control character; a reference is printable text',
    );
  return text;
}

/** An upper-case ISO 4217 code (formats that write "usd" upper-case it first). */
export function currencyField(value: string | undefined, line: number, column: string): string {
  const text = (value ?? '').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(text))
    throw new BadReportFile(line, column, `"${value ?? ''}" is not an ISO 4217 code such as USD`);
  if (!isKnownCurrency(text))
    throw new BadReportFile(
      line,
      column,
      `"${text}" is not an ISO 4217 currency this runtime knows`,
    );
  return text;
}

/**
 * A positive amount in major units ("1000.00") as minor units. `allowNegative`
 * takes the magnitude of a signed amount (formats whose sign says the
 * direction, which the type already tells).
 */
export function amountField(
  value: string | undefined,
  currency: string,
  line: number,
  column: string,
  options: { allowNegative?: boolean } = {},
): bigint {
  const text = (value ?? '').trim();
  try {
    const amount = parseAmount(text, currency, { allowNegative: options.allowNegative ?? false });
    return amount.minor < 0n ? -amount.minor : amount.minor;
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    throw new BadReportFile(line, column, error.message);
  }
}

/** Minor units written as an integer (Stripe's and Adyen's exports can carry these). */
export function minorUnitsField(value: string | undefined, line: number, column: string): bigint {
  const text = (value ?? '').trim();
  if (!/^-?\d{1,18}$/.test(text))
    throw new BadReportFile(line, column, `"${text}" is not a whole number of minor units`);
  const minor = BigInt(text);
  if (minor === 0n)
    throw new BadReportFile(line, column, 'is zero; a line reports money that moved');
  return minor < 0n ? -minor : minor;
}

const isoInstant =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An instant: ISO-8601 ("2026-03-01T10:00:00Z", an offset such as +01:00, or
 * a space for the T); a time without a zone is read as UTC (the vendors'
 * exports are in UTC unless a column says otherwise). "2026-02-30" and
 * "25:00" are refused, not rolled over.
 */
export function timestampField(value: string | undefined, line: number, column: string): Date {
  const text = (value ?? '').trim();
  const fields = isoInstant.exec(text);
  if (fields) {
    const [year, month, day, hour, minute] = fields.slice(1, 6).map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const second = Number(fields[6] ?? '0');
    const milliseconds = Number((fields[7] ?? '').padEnd(3, '0').slice(0, 3));
    const calendar = new Date(Date.UTC(year, month - 1, day, hour, minute, second, milliseconds));
    const real =
      calendar.getUTCFullYear() === year &&
      calendar.getUTCMonth() === month - 1 &&
      calendar.getUTCDate() === day &&
      calendar.getUTCHours() === hour &&
      calendar.getUTCMinutes() === minute &&
      calendar.getUTCSeconds() === second;
    const offsetMinutes =
      fields[9] === undefined
        ? 0
        : (fields[9] === '-' ? -1 : 1) * (Number(fields[10]) * 60 + Number(fields[11]));
    if (real && Math.abs(offsetMinutes) <= 18 * 60)
      return new Date(calendar.getTime() - offsetMinutes * 60_000);
  }
  throw new BadReportFile(
    line,
    column,
    `"${text}" is not a real ISO-8601 instant such as 2026-03-01T10:00:00Z`,
  );
}
