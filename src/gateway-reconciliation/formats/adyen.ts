/**
 * Adyen's Settlement details report, read by its documented column names
 * (docs.adyen.com/reporting/settlement-reconciliation/transaction-level/settlement-details-report):
 * one row per journal entry of a payout batch, `Type` saying which.
 *
 * - Settled → charge, Refunded → refund, Chargeback and SecondChargeback →
 *   chargeback, ChargebackReversed → chargeback_reversal, MerchantPayout →
 *   payout. Every other type (Fee, MiscCosts, DepositCorrection,
 *   InvoiceDeduction, Balancetransfer, RefundedReversed, PaymentCost, …) is
 *   not a movement the ledger keeps a reference for: skipped.
 * - `Psp Reference` is the original payment's pspReference on every payment
 *   row, so it keys charges and chargebacks; `Modification Reference` is the
 *   refund's own pspReference on a Refunded row and the payout's reference on
 *   a MerchantPayout row.
 * - A payment row's amount is in `Gross Currency`, in `Gross Debit (GC)` or
 *   `Gross Credit (GC)` (which of the two says the direction, which the type
 *   already tells). A MerchantPayout has no gross: what left for the bank is
 *   `Net Debit (NC)` in `Net Currency`.
 * - `Creation Date` is a wall-clock time ("2026-03-01 10:00:00") in the zone
 *   the `TimeZone` column names by abbreviation (the account's reporting time
 *   zone as it stood then: CET in winter, CEST in summer).
 */
import { amountField, currencyField, referenceField, timestampField } from '../fields';
import { BadReportFile, type GatewayItemType, type ReportFormat } from '../report-line';

type AdyenRecord = Readonly<Record<string, string>>;

const recordTypes: ReadonlyMap<string, GatewayItemType> = new Map([
  ['Settled', 'charge'],
  ['Refunded', 'refund'],
  ['Chargeback', 'chargeback'],
  ['SecondChargeback', 'chargeback'],
  ['ChargebackReversed', 'chargeback_reversal'],
  ['MerchantPayout', 'payout'],
]);

const referenceColumns: Readonly<Record<GatewayItemType, string>> = {
  charge: 'Psp Reference',
  refund: 'Modification Reference',
  payout: 'Modification Reference',
  chargeback: 'Psp Reference',
  chargeback_reversal: 'Psp Reference',
};

const grossSide = {
  currency: 'Gross Currency',
  debit: 'Gross Debit (GC)',
  credit: 'Gross Credit (GC)',
};
const netSide = { currency: 'Net Currency', debit: 'Net Debit (NC)', credit: 'Net Credit (NC)' };

export const adyenFormat: ReportFormat = {
  name: 'adyen',
  requiredColumns: [
    'Psp Reference',
    'Creation Date',
    'TimeZone',
    'Type',
    'Modification Reference',
    grossSide.currency,
    grossSide.debit,
    grossSide.credit,
    netSide.currency,
    netSide.debit,
    netSide.credit,
  ],
  toLine(record, line) {
    const recordType = (record.Type ?? '').trim();
    if (recordType.length === 0)
      throw new BadReportFile(line, 'Type', 'is empty; every Adyen row has a record type');
    const type = recordTypes.get(recordType);
    if (type === undefined) return null;

    const side = type === 'payout' ? netSide : grossSide;
    const currency = currencyField(record[side.currency], line, side.currency);
    const amountColumn = filledSide(record, side, line);
    const referenceColumn = referenceColumns[type];
    return {
      line,
      type,
      gatewayReference: referenceField(record[referenceColumn], line, referenceColumn),
      amountMinor: amountField(record[amountColumn], currency, line, amountColumn),
      currency,
      occurredAt: creationInstant(record, line),
    };
  },
};

/** The one of the debit and credit columns that holds the amount. */
function filledSide(record: AdyenRecord, side: typeof grossSide, line: number): string {
  const filled = [side.debit, side.credit].filter((name) => (record[name] ?? '').trim() !== '');
  if (filled.length === 1) return filled[0]!;
  throw new BadReportFile(
    line,
    side.credit,
    filled.length === 0
      ? `is empty and so is ${side.debit}; the row's amount is in one of them`
      : `and ${side.debit} both hold an amount; a row moves money one way, in one of them`,
  );
}

const wallClock = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** `Creation Date` read in the zone `TimeZone` names, as a UTC instant. */
function creationInstant(record: AdyenRecord, line: number): Date {
  const text = (record['Creation Date'] ?? '').trim();
  if (!wallClock.test(text))
    throw new BadReportFile(
      line,
      'Creation Date',
      `"${text}" is not a date and time such as 2026-03-01 10:00:00 ` +
        '(YYYY-MM-DD HH:MM:SS in the zone the TimeZone column names)',
    );
  const offsetMinutes = zoneOffsetMinutes(record.TimeZone, line);
  // Read as if UTC, which also refuses impossible dates, then shift by the zone.
  const asIfUtc = timestampField(text, line, 'Creation Date');
  return new Date(asIfUtc.getTime() - offsetMinutes * 60_000);
}

/**
 * The abbreviations the reporting time zone setting writes, each one offset.
 * Abbreviations that name several zones are refused, not guessed.
 */
const zoneOffsets: ReadonlyMap<string, number> = new Map([
  ['UTC', 0],
  ['GMT', 0],
  ['WET', 0],
  ['WEST', 60],
  ['BST', 60], // British Summer Time, as Adyen's documentation lists it
  ['CET', 60],
  ['CEST', 120],
  ['MET', 60],
  ['MEST', 120],
  ['EET', 120],
  ['EEST', 180],
  ['MSK', 180],
  ['EST', -300],
  ['EDT', -240],
  ['CDT', -300],
  ['MST', -420],
  ['MDT', -360],
  ['PST', -480],
  ['PDT', -420],
  ['AKST', -540],
  ['AKDT', -480],
  ['HST', -600],
  ['BRT', -180],
  ['HKT', 480],
  ['SGT', 480],
  ['AWST', 480],
  ['JST', 540],
  ['KST', 540],
  ['ACST', 570],
  ['ACDT', 630],
  ['AEST', 600],
  ['AEDT', 660],
  ['NZST', 720],
  ['NZDT', 780],
]);
const ambiguousZones: ReadonlyMap<string, string> = new Map([
  ['CST', 'US Central, China and Cuba'],
  ['IST', 'India, Israel and Ireland'],
  ['AST', 'Atlantic and Arabia'],
]);
const numericOffset = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/;

function zoneOffsetMinutes(value: string | undefined, line: number): number {
  const text = (value ?? '').trim().toUpperCase();
  const named = zoneOffsets.get(text);
  if (named !== undefined) return named;
  const numeric = numericOffset.exec(text);
  if (numeric) {
    const minutes = Number(numeric[2]) * 60 + Number(numeric[3] ?? '0');
    if (Number(numeric[3] ?? '0') < 60 && minutes <= 14 * 60)
      return numeric[1] === '-' ? -minutes : minutes;
  }
  const zones = ambiguousZones.get(text);
  throw new BadReportFile(
    line,
    'TimeZone',
    zones === undefined
      ? `"${value ?? ''}" is not a time zone this reader knows: an abbreviation such as ` +
          'CET, CEST, BST, GMT or UTC, or an offset such as +01:00'
      : `"${text}" names more than one time zone (${zones}); set the account's report ` +
          'time zone to one whose abbreviation is unambiguous, or write the offset, such as -06:00',
  );
}
