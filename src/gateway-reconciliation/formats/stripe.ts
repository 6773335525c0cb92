/**
 * Stripe's itemized Balance report exports, read by their documented column
 * names (docs.stripe.com/reports/balance): the itemized balance change from
 * activity (`balance_change_from_activity.itemized.3`) — charges, refunds,
 * disputes and everything else but payouts — and the itemized payouts
 * (`payouts.itemized.3`), which Stripe keeps out of the activity report.
 *
 * Each row is one balance transaction. `reporting_category` says what it is;
 * `gross` is its amount in major units, signed by its effect on the balance
 * (a refund is "-25.00"), so the magnitude is taken and the type gives the
 * direction; `currency` is lower-case ("usd").
 *
 * The reference each type is keyed by is the one the ledger holds:
 * - charge, dispute, dispute_reversal: `charge_id`, the original charge (for a
 *   dispute `source_id` is the dispute `dp_…`, which the ledger never sees);
 * - refund: `source_id`, the refund itself (`re_…`);
 * - payout: `source_id` (`po_…`) in an export that has it, else the payouts
 *   report's `payout_id`.
 * The two reports differ in more than the reference: activity rows are dated
 * by `created_utc`, payouts by `effective_at_utc`. The columns every row needs
 * are the header's required columns; the rest are looked up per row (the
 * first one of the row's candidates that holds a value, so the two exports
 * combined into one file under the union of their headers read too), and a
 * missing one is named with the line that needed it.
 */
import { amountField, currencyField, referenceField, timestampField } from '../fields';
import { BadReportFile, type GatewayItemType, type ReportFormat } from '../report-line';

type StripeRecord = Readonly<Record<string, string>>;

/** The reporting categories reconciled, and the contract type each is. */
const categoryTypes: ReadonlyMap<string, GatewayItemType> = new Map([
  ['charge', 'charge'],
  ['refund', 'refund'],
  ['payout', 'payout'],
  ['dispute', 'chargeback'],
  ['dispute_reversal', 'chargeback_reversal'],
]);

/** Where each type finds its reference, in order of preference. */
const referenceColumns: Readonly<Record<GatewayItemType, readonly string[]>> = {
  charge: ['charge_id'],
  refund: ['source_id'],
  payout: ['source_id', 'payout_id'],
  chargeback: ['charge_id'],
  chargeback_reversal: ['charge_id'],
};

/** A payout Stripe reports failed or canceled was never paid: the ledger holds PAYOUT_FAILED. */
const unpaidPayoutStatuses: ReadonlySet<string> = new Set(['failed', 'canceled']);

export const stripeFormat: ReportFormat = {
  name: 'stripe',
  requiredColumns: ['reporting_category', 'currency', 'gross'],
  toLine(record, line) {
    const category = (record.reporting_category ?? '').trim();
    if (category.length === 0)
      throw new BadReportFile(line, 'reporting_category', 'is empty; every Stripe row has one');
    const type = categoryTypes.get(category);
    // Fees, transfers, failed refunds, partial-capture reversals, payout
    // reversals, adjustments and any category Stripe adds later.
    if (type === undefined) return null;
    if (type === 'payout' && unpaidPayoutStatuses.has((record.payout_status ?? '').trim()))
      return null;

    const currency = currencyField(record.currency, line, 'currency');
    const reference = column(record, referenceColumns[type], line, category);
    const time = column(record, ['created_utc', 'effective_at_utc'], line, category);
    return {
      line,
      type,
      gatewayReference: referenceField(record[reference], line, reference),
      amountMinor: amountField(record.gross, currency, line, 'gross', { allowNegative: true }),
      currency,
      occurredAt: timestampField(record[time], line, time),
    };
  },
};

/**
 * The first of `names` that holds a value in this row, else the first the
 * header has (its empty value is then refused by the field check, naming it);
 * a header with none of them is a file that cannot say what this row needs.
 * csv-parse gives every record a key per header column, empty or not.
 */
function column(
  record: StripeRecord,
  names: readonly string[],
  line: number,
  category: string,
): string {
  const present = names.filter((name) => Object.hasOwn(record, name));
  const filled = present.find((name) => (record[name] ?? '').trim() !== '');
  if (filled !== undefined) return filled;
  if (present.length > 0) return present[0]!;
  throw new BadReportFile(
    line,
    names[0]!,
    `the file has no ${names.join(' or ')} column, which a ${category} row needs: ` +
      'export the report with it',
  );
}
