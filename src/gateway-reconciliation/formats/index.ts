/**
 * Every report format by the name `--format` takes: the contract's plain CSV,
 * Stripe's itemized Balance report exports and Adyen's Settlement details
 * report, each turning one CSV record into a ReportLine.
 */
import type { ReportFormat } from '../report-line';
import { adyenFormat } from './adyen';
import { plainFormat } from './plain';
import { stripeFormat } from './stripe';

export const reportFormats: Readonly<Record<ReportFormat['name'], ReportFormat>> = {
  plain: plainFormat,
  stripe: stripeFormat,
  adyen: adyenFormat,
};

export { adyenFormat, plainFormat, stripeFormat };
