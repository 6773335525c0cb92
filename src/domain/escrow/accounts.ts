/**
 * The accounts that make escrow explicit (DESIGN.md, "The ledger"), and the
 * readable code each is stored under. Disputed funds live apart from the hold
 * so that liquidity reports and payout code never see them.
 */
import type { AccountRef } from './types';

export const accounts = {
  gatewayClearing: (currency: string): AccountRef => ({ kind: 'GATEWAY_CLEARING', currency }),
  escrowHold: (currency: string, orderId: string, milestoneId: string): AccountRef => ({
    kind: 'ESCROW_HOLD',
    currency,
    orderId,
    milestoneId,
  }),
  disputedFunds: (currency: string, orderId: string, milestoneId: string): AccountRef => ({
    kind: 'DISPUTED_FUNDS',
    currency,
    orderId,
    milestoneId,
  }),
  providerPayable: (currency: string, providerId: string): AccountRef => ({
    kind: 'PROVIDER_PAYABLE',
    currency,
    partyId: providerId,
  }),
  buyerRefundPayable: (currency: string, buyerId: string): AccountRef => ({
    kind: 'BUYER_REFUND_PAYABLE',
    currency,
    partyId: buyerId,
  }),
  /**
   * What a provider owes back after a chargeback of money already released to
   * them. Like gateway clearing it is something the platform is owed, so its
   * balance is negative while a debt is outstanding; views show it negated.
   */
  providerReceivable: (currency: string, providerId: string): AccountRef => ({
    kind: 'PROVIDER_RECEIVABLE',
    currency,
    partyId: providerId,
  }),
  platformRevenue: (currency: string): AccountRef => ({ kind: 'PLATFORM_REVENUE', currency }),
};

/** e.g. ESCROW_HOLD:USD:order-1:m-1, PROVIDER_PAYABLE:USD:provider-7, PLATFORM_REVENUE:USD. */
export function accountCode(account: AccountRef): string {
  // Percent-encoding keeps the code unambiguous when an id itself contains ":".
  // Concatenated rather than joined from arrays: this runs for every posting.
  const code = `${account.kind}:${account.currency}`;
  if (account.orderId !== undefined)
    return `${code}:${encodeURIComponent(account.orderId)}:${encodeURIComponent(account.milestoneId ?? '')}`;
  if (account.partyId !== undefined) return `${code}:${encodeURIComponent(account.partyId)}`;
  return code;
}
