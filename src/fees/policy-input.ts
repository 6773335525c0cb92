/**
 * A new fee policy version from text, as an operator types it: an instant,
 * a rate, "USD=1.00" pairs and "10000.00=0.07" tiers. This checks only the
 * shape of the text (FEE_POLICY_ARGUMENT); the rules of a policy (ranges,
 * currency digits, increasing tiers) stay with src/domain/fees, which says
 * FEE_POLICY_INVALID with every broken rule at once.
 */
import { DEFAULT_VOLUME_WINDOW_DAYS, type FeePolicy, type VolumeTier } from '../domain/fees';

/** A version not stored yet: no id, an optional note for the people who read the history. */
export type NewFeePolicy = FeePolicy & { readonly policyId: null; readonly note: string | null };

export interface FeePolicyText {
  readonly effectiveFrom: string;
  readonly rate: string;
  readonly minimums?: readonly string[];
  readonly tiers?: readonly string[];
  readonly volumeWindowDays?: string;
  readonly disputeFees?: readonly string[];
  readonly note?: string;
}

export class FeePolicyInputError extends Error {
  readonly code = 'FEE_POLICY_ARGUMENT';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'FeePolicyInputError';
  }
}

const NOTE_LIMIT = 500;

export function newFeePolicyFromText(text: FeePolicyText): NewFeePolicy {
  if (text.note !== undefined && text.note.length > NOTE_LIMIT) {
    throw new FeePolicyInputError(
      `--note is ${text.note.length} characters: keep it to ${NOTE_LIMIT}`,
    );
  }
  return {
    policyId: null,
    effectiveFrom: parseInstant(text.effectiveFrom),
    rate: text.rate,
    minimumFees: currencyAmounts('--minimum', text.minimums ?? []),
    volumeTiers: (text.tiers ?? []).map(parseTier),
    volumeWindowDays: parseDays(text.volumeWindowDays),
    disputeFees: currencyAmounts('--dispute-fee', text.disputeFees ?? []),
    note: text.note ?? null,
  };
}

// Zone required: a local time means different instants on different hosts.
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** An ISO-8601 instant with a zone (Z or ±hh:mm), checked field by field: 2026-02-30 is refused. */
export function parseInstant(text: string): Date {
  const match = INSTANT.exec(text);
  const refuse = () =>
    new FeePolicyInputError(
      `--effective-from ${JSON.stringify(text)} is not an ISO-8601 instant with a zone: ` +
        'write it like 2026-12-01T00:00:00Z',
    );
  if (!match) throw refuse();
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map((part) => Number(part ?? 0));
  // ".5" is half a second: pad the fraction to milliseconds before reading it.
  const millis = Number((match[7] ?? '0').padEnd(3, '0'));
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  const fieldsHold =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  const zoneHolds = match[8] === 'Z' || (Number(match[10]) <= 23 && Number(match[11]) <= 59);
  if (!fieldsHold || !zoneHolds) throw refuse();
  const offsetMinutes =
    match[8] === 'Z'
      ? 0
      : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  return new Date(local.getTime() - offsetMinutes * 60_000);
}

function splitPair(option: string, text: string, example: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) {
    throw new FeePolicyInputError(
      `${option} ${JSON.stringify(text)} is not a pair: write it like ${example}`,
    );
  }
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

function currencyAmounts(option: string, pairs: readonly string[]): Record<string, string> {
  const amounts: Record<string, string> = {};
  for (const text of pairs) {
    const [currency, amount] = splitPair(option, text, `${option} USD=1.00`);
    if (Object.hasOwn(amounts, currency)) {
      throw new FeePolicyInputError(
        `${option} gives ${currency} twice: give one amount per currency`,
      );
    }
    amounts[currency] = amount;
  }
  return amounts;
}

function parseTier(text: string): VolumeTier {
  const [minVolume, rate] = splitPair('--tier', text, '--tier 10000.00=0.07 (volume=rate)');
  return { minVolume, rate };
}

function parseDays(text: string | undefined): number {
  if (text === undefined) return DEFAULT_VOLUME_WINDOW_DAYS;
  if (!/^\d{1,5}$/.test(text)) {
    throw new FeePolicyInputError(
      `--volume-window-days ${JSON.stringify(text)} is not a whole number of days: write it like 30`,
    );
  }
  return Number(text);
}
