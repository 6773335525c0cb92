/**
 * The query parameters of the operations API's money views, read strictly: a
 * view of balances that quietly ignored a misspelt `as_of` would show today's
 * money under a past date. Every refusal names the parameter, the rule it
 * breaks and how to write it instead (a 400 with `{ error, parameter }`).
 *
 * asOf: an ISO-8601 date-time with its offset, `YYYY-MM-DDTHH:MM[:SS[.fraction]]`
 * then `Z` or `±HH:MM`. A time without an offset is refused rather than read
 * in some time zone; so is a date alone (the start or the end of that day?).
 * The fraction is cut to microseconds, the ledger's precision (cutting, not
 * rounding, keeps "at or before asOf" exact). A moment later than the server's
 * clock is refused: the ledger can only say what has happened, and a balance
 * "as of tomorrow" could still change.
 */

export interface ParameterError {
  error: string;
  parameter: string;
}

/** A moment to read the ledger at: UTC, microseconds, as Postgres takes it. */
export interface AsOf {
  /** e.g. 2026-06-01T09:30:00.000000Z */
  readonly text: string;
  readonly epochMs: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: ParameterError };

const example = 'asOf=2026-06-01T09:30:00Z';

const refuse = <T>(parameter: string, error: string): Parsed<T> => ({
  ok: false,
  problem: { error, parameter },
});

/** Refuses parameters a route does not take, and any given twice. */
export function checkParameterNames(
  search: URLSearchParams,
  accepted: readonly string[],
): ParameterError | undefined {
  for (const name of new Set(search.keys())) {
    if (!accepted.includes(name)) {
      const takes = accepted.length === 0 ? 'no parameters' : accepted.join(', ');
      const hint = /^as_?of$/i.test(name) && accepted.includes('asOf') ? ' (spelt asOf)' : '';
      return {
        parameter: name,
        error: `unknown query parameter ${JSON.stringify(name)}: this route takes ${takes}${hint}`,
      };
    }
    if (search.getAll(name).length > 1) {
      return { parameter: name, error: `${name} is given more than once: give it once` };
    }
  }
  return undefined;
}

// Query strings decode "+" as a space, so "+02:00" sent unencoded arrives as " 02:00":
// nothing else can put a space there, so it is read as the "+" it was.
const dateTime =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+\- ])(\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number) =>
  month === 2
    ? (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/** Reads `asOf`; undefined when it is absent (the view of now). */
export function parseAsOf(value: string | null, now: Date): Parsed<AsOf | undefined> {
  if (value === null) return { ok: true, value: undefined };
  const shown = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  const parts = value.length > 64 ? null : dateTime.exec(value);
  if (parts === null) {
    const fix = /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? `add a time and an offset, e.g. ${value}T00:00:00Z for the start of that day in UTC`
      : /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)
        ? 'add Z for UTC or an offset such as +02:00 (a time without one names no moment)'
        : `write e.g. ${example}`;
    return refuse(
      'asOf',
      `asOf ${shown} is not an ISO-8601 date-time with an offset ` +
        `(YYYY-MM-DDTHH:MM[:SS[.fraction]] then Z or ±HH:MM): ${fix}`,
    );
  }
  const [, year, month, day, hour, minute, second = '0', fraction = '', zulu, sign, offH, offM] =
    parts.map((part) => part ?? '');
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetMinutes = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM));
  const impossible =
    mo < 1 || mo > 12
      ? `there is no month ${month}`
      : d < 1 || d > daysIn(y, mo)
        ? `${year}-${month} has no day ${day}`
        : h > 23 || mi > 59 || s > 59
          ? `${hour}:${minute}:${second.padStart(2, '0')} is not a time of day (00:00:00 to 23:59:59)`
          : Number(offH) > 23 || Number(offM) > 59
            ? `${sign === '-' ? '-' : '+'}${offH}:${offM} is not an offset`
            : undefined;
  if (impossible !== undefined) {
    return refuse(
      'asOf',
      `asOf ${shown} is not a real moment: ${impossible}; write e.g. ${example}`,
    );
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi - offsetMinutes, s, Number(fraction.padEnd(3, '0').slice(0, 3)));
  const epochMs = utc.getTime();
  if (epochMs > now.getTime()) {
    return refuse(
      'asOf',
      `asOf ${shown} is later than the server's clock (${now.toISOString()}): the ledger can only ` +
        'say what has happened; leave asOf out for the balances of now',
    );
  }
  const micros = fraction.padEnd(6, '0').slice(0, 6);
  const text = `${utc.toISOString().slice(0, 19)}.${micros}Z`;
  if (!/^\d{4}-/.test(text) || text.startsWith('0000-')) {
    return refuse('asOf', `asOf ${shown} is outside the years 0001 to 9999: write e.g. ${example}`);
  }
  return { ok: true, value: { text, epochMs } };
}

/** Reads a positive whole number up to `max`; `fallback` when absent. */
export function parseLimit(
  name: string,
  value: string | null,
  fallback: number,
  max: number,
): Parsed<number> {
  if (value === null) return { ok: true, value: fallback };
  if (!/^[1-9]\d{0,6}$/.test(value) || Number(value) > max) {
    return refuse(
      name,
      `${name} ${JSON.stringify(value.slice(0, 20))} is not a whole number from 1 to ${max}: ` +
        `write e.g. ${name}=${fallback}`,
    );
  }
  return { ok: true, value: Number(value) };
}
