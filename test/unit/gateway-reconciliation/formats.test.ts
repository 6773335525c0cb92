/**
 * Stripe's and Adyen's report exports as ReportLines. The fixtures are written
 * from the vendors' documented column lists (Stripe's Balance report,
 * docs.stripe.com/reports/balance; Adyen's Settlement details report) and read
 * as the command reads a file: csv-parse with the header as column names, the
 * header being line 1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  adyenFormat,
  reportFormats,
  stripeFormat,
} from '../../../src/gateway-reconciliation/formats';
import { plainFormat } from '../../../src/gateway-reconciliation/formats/plain';
import {
  BadReportFile,
  type ReportFormat,
  type ReportLine,
} from '../../../src/gateway-reconciliation/report-line';

type CsvRecord = Record<string, string>;

function parseCsv(text: string): { header: string[]; records: CsvRecord[] } {
  const [header = []] = parse(text, { to_line: 1 });
  return { header, records: parse<CsvRecord>(text, { columns: true }) };
}

function fixture(name: string): { header: string[]; records: CsvRecord[] } {
  return parseCsv(readFileSync(join(__dirname, '../../fixtures/gateway-reports', name), 'utf8'));
}

/** Every record through the format, keyed by its line (records start on line 2). */
function lines(
  format: ReportFormat,
  records: readonly CsvRecord[],
): Map<number, ReportLine | null> {
  return new Map(records.map((record, index) => [index + 2, format.toLine(record, index + 2)]));
}

function refusal(read: () => unknown): BadReportFile {
  try {
    read();
  } catch (error) {
    if (error instanceof BadReportFile) return error;
    throw error;
  }
  throw new Error('the record was accepted');
}

function line(
  at: number,
  type: ReportLine['type'],
  gatewayReference: string,
  amountMinor: bigint,
  currency: string,
  occurredAt: string,
): ReportLine {
  return {
    line: at,
    type,
    gatewayReference,
    amountMinor,
    currency,
    occurredAt: new Date(occurredAt),
  };
}

test('the formats by --format name, each named as its key', () => {
  expect(Object.keys(reportFormats).sort()).toEqual(['adyen', 'plain', 'stripe']);
  for (const [name, format] of Object.entries(reportFormats)) expect(format.name).toBe(name);
  expect(reportFormats.plain).toBe(plainFormat);
});

test.each([
  ['stripe-balance-change-from-activity.csv', stripeFormat],
  ['stripe-payouts-itemized.csv', stripeFormat],
  ['adyen-settlement-details.csv', adyenFormat],
])('the documented header of %s has every column the format requires', (name, format) => {
  const { header } = fixture(name);
  expect(format.requiredColumns.filter((column) => !header.includes(column))).toEqual([]);
});

describe('stripe', () => {
  test('itemized balance change from activity: charges, refunds and disputes by the ledger reference, the rest skipped', () => {
    const read = lines(stripeFormat, fixture('stripe-balance-change-from-activity.csv').records);
    expect([...read]).toEqual([
      // created_utc, not `created` (the requested time zone, here an hour ahead).
      [2, line(2, 'charge', 'ch_3PcA1', 100_000n, 'USD', '2026-03-02T09:15:42Z')],
      // The refund's own id; gross -250.00 is 250.00 refunded.
      [3, line(3, 'refund', 're_3PcA1', 25_000n, 'USD', '2026-03-05T14:00:00Z')],
      // The disputed charge, not the dispute's dp_ id in source_id.
      [4, line(4, 'chargeback', 'ch_3PcB2', 100_000n, 'USD', '2026-03-10T08:30:00Z')],
      [5, line(5, 'chargeback_reversal', 'ch_3PcB2', 100_000n, 'USD', '2026-03-24T16:45:10Z')],
      [6, null], // fee
      [7, null], // transfer
      [8, null], // partial_capture_reversal
      [9, null], // refund_failure
      // Zero-decimal currency: "15000" is 15000 yen.
      [10, line(10, 'charge', 'ch_3PcJ9', 15_000n, 'JPY', '2026-03-03T00:30:00Z')],
    ]);
  });

  test('itemized payouts: paid and in-transit payouts by payout_id and effective_at_utc; failed ones and reversals skipped', () => {
    const read = lines(stripeFormat, fixture('stripe-payouts-itemized.csv').records);
    expect([...read]).toEqual([
      [2, line(2, 'payout', 'po_1PcPaid', 72_070n, 'USD', '2026-03-06T00:00:00Z')],
      [3, null], // payout_status failed: never paid
      [4, null], // payout_reversal
      [5, line(5, 'payout', 'po_1PcTransit', 8_025n, 'EUR', '2026-03-10T00:00:00Z')],
    ]);
  });

  test('a payout among balance transactions is keyed by its source_id and dated by created_utc', () => {
    const { records } = parseCsv(
      'balance_transaction_id,created_utc,currency,gross,reporting_category,source_id,charge_id\n' +
        'txn_1,2026-03-06 07:00:00,gbp,-40.00,payout,po_1Listed,\n',
    );
    expect(stripeFormat.toLine(records[0]!, 2)).toEqual(
      line(2, 'payout', 'po_1Listed', 4_000n, 'GBP', '2026-03-06T07:00:00Z'),
    );
  });

  test('the two exports combined into one file under the union of their headers read as each alone', () => {
    const activity = fixture('stripe-balance-change-from-activity.csv');
    const payouts = fixture('stripe-payouts-itemized.csv');
    const union = [...new Set([...activity.header, ...payouts.header])];
    const combined = [...activity.records, ...payouts.records].map((record) =>
      Object.fromEntries(union.map((name) => [name, record[name] ?? ''])),
    );
    const alone = [
      ...lines(stripeFormat, activity.records).values(),
      ...lines(stripeFormat, payouts.records).values(),
    ].map((read) => read && { ...read, line: 0 });
    expect(
      [...lines(stripeFormat, combined).values()].map((read) => read && { ...read, line: 0 }),
    ).toEqual(alone);
    expect(alone.filter((read) => read !== null)).toHaveLength(7);
  });

  const activity = (changes: CsvRecord): CsvRecord => ({
    ...fixture('stripe-balance-change-from-activity.csv').records[0]!,
    ...changes,
  });

  test.each([
    ['gross', { gross: '1,000.00' }, /"1,000\.00" is not a plain decimal/],
    ['gross', { gross: '10.001' }, /3 fractional digits but USD allows 2/],
    ['gross', { gross: '' }, /is not a plain decimal/],
    ['currency', { currency: 'us' }, /"us" is not an ISO 4217 code/],
    ['created_utc', { created_utc: '2026-02-30 10:00:00' }, /"2026-02-30 10:00:00" is not a real/],
    ['created_utc', { created_utc: '03/02/2026 09:15' }, /is not a real ISO-8601 instant/],
    ['charge_id', { charge_id: '' }, /is empty; every line needs the gateway reference/],
    ['reporting_category', { reporting_category: ' ' }, /is empty/],
  ])('a bad %s is refused naming line and Stripe column', (column, changes, message) => {
    const refused = refusal(() => stripeFormat.toLine(activity(changes), 7));
    expect(refused).toMatchObject({ line: 7, column, code: 'BAD_REPORT_FILE' });
    expect(refused.message).toMatch(new RegExp(`^line 7, column ${column}: `));
    expect(refused.message).toMatch(message);
  });

  test('a row that needs a column the export left out names the column and the row', () => {
    const { records } = parseCsv(
      'created_utc,currency,gross,reporting_category,source_id\n' +
        '2026-03-10 08:30:00,usd,-10.00,dispute,dp_1\n' +
        '2026-03-10 08:30:00,usd,-10.00,fee,\n',
    );
    const refused = refusal(() => stripeFormat.toLine(records[0]!, 2));
    expect(refused).toMatchObject({ line: 2, column: 'charge_id' });
    expect(refused.message).toMatch(/no charge_id column, which a dispute row needs/);
    expect(stripeFormat.toLine(records[1]!, 3)).toBeNull();
  });
});

describe('adyen', () => {
  test('settlement details: every record type mapped, Creation Date in its TimeZone made UTC', () => {
    const read = lines(adyenFormat, fixture('adyen-settlement-details.csv').records);
    expect([...read]).toEqual([
      // CET is UTC+1.
      [2, line(2, 'charge', '8815730011112222', 100_000n, 'EUR', '2026-01-15T09:20:30Z')],
      // The refund's own pspReference, Modification Reference; CEST is UTC+2.
      [3, line(3, 'refund', '8815730022223333', 25_000n, 'EUR', '2026-07-01T10:00:00Z')],
      // Chargebacks carry the original payment's Psp Reference.
      [4, line(4, 'chargeback', '8815730033334444', 34_999n, 'EUR', '2026-06-10T07:00:00Z')],
      [
        5,
        line(5, 'chargeback_reversal', '8815730033334444', 34_999n, 'EUR', '2026-06-25T16:30:00Z'),
      ],
      [6, line(6, 'chargeback', '8815730033334444', 34_999n, 'EUR', '2026-07-03T06:00:00Z')],
      // No gross: the payout's Net Debit (NC) in Net Currency.
      [
        7,
        line(
          7,
          'payout',
          'TX9876543XT batch 43, TestMerchant',
          500_000n,
          'EUR',
          '2026-07-06T02:55:40Z',
        ),
      ],
      [8, null], // Fee
      [9, null], // DepositCorrection
      [10, null], // RefundedReversed
    ]);
  });

  const settled = (changes: CsvRecord): CsvRecord => ({
    ...fixture('adyen-settlement-details.csv').records[0]!,
    ...changes,
  });

  test.each([
    ['CET', '2026-01-15T09:20:30Z'],
    ['CEST', '2026-01-15T08:20:30Z'],
    ['BST', '2026-01-15T09:20:30Z'],
    ['GMT', '2026-01-15T10:20:30Z'],
    ['UTC', '2026-01-15T10:20:30Z'],
    ['EST', '2026-01-15T15:20:30Z'],
    ['PDT', '2026-01-15T17:20:30Z'],
    ['AEDT', '2026-01-14T23:20:30Z'],
    ['+05:30', '2026-01-15T04:50:30Z'],
    ['GMT-03:00', '2026-01-15T13:20:30Z'],
  ])('Creation Date 2026-01-15 10:20:30 in %s is %s', (zone, instant) => {
    expect(adyenFormat.toLine(settled({ TimeZone: zone }), 2)?.occurredAt).toEqual(
      new Date(instant),
    );
  });

  test('the offset can carry the time across midnight and a month end', () => {
    const read = adyenFormat.toLine(
      settled({ 'Creation Date': '2026-03-01 00:30:00', TimeZone: 'CET' }),
      2,
    );
    expect(read?.occurredAt).toEqual(new Date('2026-02-28T23:30:00Z'));
  });

  test('a zero-decimal currency is read in whole units', () => {
    const read = adyenFormat.toLine(
      settled({ 'Gross Currency': 'JPY', 'Gross Credit (GC)': '15000' }),
      2,
    );
    expect(read).toMatchObject({ amountMinor: 15_000n, currency: 'JPY' });
  });

  test.each([
    ['Gross Credit (GC)', { 'Gross Credit (GC)': '1000.001' }, /3 fractional digits but EUR/],
    ['Gross Credit (GC)', { 'Gross Credit (GC)': '1.000,00' }, /is not a plain decimal/],
    ['Gross Debit (GC)', { 'Gross Credit (GC)': '', 'Gross Debit (GC)': '-5' }, /is negative/],
    ['Gross Credit (GC)', { 'Gross Credit (GC)': '' }, /is empty and so is Gross Debit \(GC\)/],
    ['Gross Credit (GC)', { 'Gross Debit (GC)': '1000.00' }, /both hold an amount/],
    ['Gross Currency', { 'Gross Currency': 'EURO' }, /"EURO" is not an ISO 4217 code/],
    [
      'Creation Date',
      { 'Creation Date': '15/01/2026 10:20' },
      /"15\/01\/2026 10:20" is not a date/,
    ],
    ['Creation Date', { 'Creation Date': '2026-01-15T10:20:30Z' }, /YYYY-MM-DD HH:MM:SS/],
    ['Creation Date', { 'Creation Date': '2026-02-29 10:20:30' }, /is not a real/],
    ['TimeZone', { TimeZone: 'Mars/Olympus' }, /is not a time zone this reader knows/],
    ['TimeZone', { TimeZone: '' }, /is not a time zone this reader knows/],
    ['TimeZone', { TimeZone: 'CST' }, /"CST" names more than one time zone/],
    ['TimeZone', { TimeZone: '+15:00' }, /is not a time zone this reader knows/],
    ['Psp Reference', { 'Psp Reference': '' }, /is empty; every line needs the gateway reference/],
    ['Type', { Type: '' }, /is empty/],
  ])('a bad %s is refused naming line and Adyen column', (column, changes, message) => {
    const refused = refusal(() => adyenFormat.toLine(settled(changes), 9));
    expect(refused).toMatchObject({ line: 9, column, code: 'BAD_REPORT_FILE' });
    expect(refused.message).toMatch(
      new RegExp(`^line 9, column ${column.replace(/[()]/g, '\\$&')}: `),
    );
    expect(refused.message).toMatch(message);
  });

  test('a payout reads the net side: a bad Net Debit (NC) is named, the gross columns are not read', () => {
    const payout = fixture('adyen-settlement-details.csv').records[5]!;
    expect(payout.Type).toBe('MerchantPayout');
    const refused = refusal(() =>
      adyenFormat.toLine({ ...payout, 'Net Debit (NC)': '5000.5.0', 'Gross Credit (GC)': 'x' }, 7),
    );
    expect(refused).toMatchObject({ line: 7, column: 'Net Debit (NC)' });
    const emptyReference = refusal(() =>
      adyenFormat.toLine({ ...payout, 'Modification Reference': '' }, 7),
    );
    expect(emptyReference).toMatchObject({ line: 7, column: 'Modification Reference' });
  });

  test('a row of a type not reconciled is skipped before any of its values is read', () => {
    expect(adyenFormat.toLine(settled({ Type: 'MiscCosts', TimeZone: '??' }), 2)).toBeNull();
  });
});
