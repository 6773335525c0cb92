/**
 * One line of a gateway's own record of what moved, in the contract's terms
 * (CONTRACT.md, "Gateway reconciliation"): what it is, the gateway's
 * reference, how much in which currency, and when. Every input format — the
 * contract's plain CSV, Stripe's and Adyen's exports — is turned into these.
 */

/** The contract's `type` column. */
export const gatewayItemTypes = [
  'charge',
  'refund',
  'payout',
  'chargeback',
  'chargeback_reversal',
] as const;
export type GatewayItemType = (typeof gatewayItemTypes)[number];

export interface ReportLine {
  /** The line of the file it came from (the header is line 1). */
  readonly line: number;
  readonly type: GatewayItemType;
  /**
   * charge: the payment's gatewayReference; refund and payout: the transfer's
   * own reference (a REFUND_PAID / PAYOUT_PAID settlement's gatewayReference);
   * chargeback and chargeback_reversal: the charged-back payment's reference.
   */
  readonly gatewayReference: string;
  /** The positive amount that moved, in the currency's minor units. */
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly occurredAt: Date;
}

/** A file that cannot be read as a report: the line and the column named, and the fix. */
export class BadReportFile extends Error {
  readonly code = 'BAD_REPORT_FILE';
  readonly retryable = false;
  constructor(
    readonly line: number,
    readonly column: string | null,
    detail: string,
  ) {
    super(`line ${line}${column === null ? '' : `, column ${column}`}: ${detail}`);
    this.name = 'BadReportFile';
  }
}

/**
 * A format: the columns its header must have, and how one record (a row as
 * column name → text) becomes a report line. `toLine` returns null for a row
 * the format knows is not a money movement of the kinds reconciled (Stripe's
 * fee adjustments, Adyen's balance transfers): skipped, and counted.
 */
export interface ReportFormat {
  readonly name: 'plain' | 'stripe' | 'adyen';
  readonly requiredColumns: readonly string[];
  toLine(record: Readonly<Record<string, string>>, line: number): ReportLine | null;
}
