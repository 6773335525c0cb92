/**
 * The contract's own format: `gateway_reference,type,amount,currency,occurred_at`,
 * amounts positive decimal strings in major units, `type` one of charge,
 * refund, payout, chargeback, chargeback_reversal.
 */
import { amountField, currencyField, referenceField, timestampField } from '../fields';
import {
  BadReportFile,
  type GatewayItemType,
  gatewayItemTypes,
  type ReportFormat,
} from '../report-line';

const types: ReadonlySet<string> = new Set(gatewayItemTypes);

export const plainFormat: ReportFormat = {
  name: 'plain',
  requiredColumns: ['gateway_reference', 'type', 'amount', 'currency', 'occurred_at'],
  toLine(record, line) {
    const type = (record.type ?? '').trim();
    if (!types.has(type)) {
      throw new BadReportFile(
        line,
        'type',
        `"${type}" is not one of ${gatewayItemTypes.join(', ')}`,
      );
    }
    const currency = currencyField(record.currency, line, 'currency');
    return {
      line,
      type: type as GatewayItemType,
      gatewayReference: referenceField(record.gateway_reference, line, 'gateway_reference'),
      amountMinor: amountField(record.amount, currency, line, 'amount'),
      currency,
      occurredAt: timestampField(record.occurred_at, line, 'occurred_at'),
    };
  },
};
