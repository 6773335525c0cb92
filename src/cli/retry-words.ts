/**
 * The words of `payouts retry` / `refunds retry`: what a payout and a refund
 * are called, and why a request could not be asked for again — each refusal
 * naming the option, the rule and the fix.
 */
import type { DisbursementKind, StoredRequest } from '../store/disbursement-retries';

export type RefusalCode =
  /** No request has this outcomeId. */
  | 'UNKNOWN_OUTCOME'
  /** A refund's outcomeId given to payouts retry, or the other way round. */
  | 'OTHER_KIND'
  /** REQUESTED (not settled yet) or PAID. */
  | 'NOT_FAILED'
  /** Asked for again already (by this or another operator). */
  | 'ALREADY_RETRIED'
  /** A refund stored without the reason its REFUND_REQUESTED must carry. */
  | 'NO_REFUND_REASON';

export interface KindWords {
  readonly noun: 'payout' | 'refund';
  readonly command: 'payouts' | 'refunds';
  readonly party: 'provider' | 'buyer';
  readonly partyOption: '--provider' | '--buyer';
  readonly requested: 'PAYOUT_REQUESTED' | 'REFUND_REQUESTED';
  readonly failed: 'PAYOUT_FAILED' | 'REFUND_FAILED';
  readonly paid: 'PAYOUT_PAID' | 'REFUND_PAID';
  /** Who settles the request. */
  readonly settler: string;
}

export const words: Readonly<Record<DisbursementKind, KindWords>> = {
  PAYOUT: {
    noun: 'payout',
    command: 'payouts',
    party: 'provider',
    partyOption: '--provider',
    requested: 'PAYOUT_REQUESTED',
    failed: 'PAYOUT_FAILED',
    paid: 'PAYOUT_PAID',
    settler: 'the payout service',
  },
  REFUND: {
    noun: 'refund',
    command: 'refunds',
    party: 'buyer',
    partyOption: '--buyer',
    requested: 'REFUND_REQUESTED',
    failed: 'REFUND_FAILED',
    paid: 'REFUND_PAID',
    settler: 'the gateway adapter',
  },
};

export function describeRefusal(refused: {
  kind: DisbursementKind;
  outcomeId: string;
  code: RefusalCode;
  request: StoredRequest | null;
  replacement: StoredRequest | null;
}): string {
  const { kind, outcomeId, request, replacement } = refused;
  const said = words[kind];
  const option = `--outcome ${outcomeId}`;
  const retryCommand = `escrow-worker ${said.command} retry`;
  switch (refused.code) {
    case 'UNKNOWN_OUTCOME':
      return (
        `${option}: no payout or refund was requested with this outcomeId. Give the outcomeId of ` +
        `the ${said.requested} that failed (the one its ${said.failed} settlement names); ` +
        `escrow-worker reconcile lists the failed requests not asked for again`
      );
    case 'OTHER_KIND': {
      const other = words[request!.kind];
      return (
        `${option} is a ${other.noun} (to ${other.party} ${request!.partyId}, order ` +
        `${request!.orderId}), not a ${said.noun}: ${said.command} retry asks again for ` +
        `${said.command} only. Use escrow-worker ${other.command} retry ${option}`
      );
    }
    case 'NOT_FAILED':
      return request!.state === 'PAID'
        ? `${option}: ${said.noun} ${outcomeId} is PAID` +
            (request!.settlement ? ` (settled by ${request!.settlement})` : '') +
            `; only a FAILED request is asked for again, and this money has left already. ` +
            `Nothing to do`
        : `${option}: ${said.noun} ${outcomeId} is ${request!.state} (asked for, not settled yet); ` +
            `only a FAILED request is asked for again. Wait for its ${said.paid} or ` +
            `${said.failed}; if neither comes, ask ${said.settler} about it ` +
            `(escrow-worker reconcile lists requests unsettled too long)`;
    case 'ALREADY_RETRIED':
      return `${option}: ${said.noun} ${outcomeId} ${alreadyRetried(replacement, retryCommand)}`;
    case 'NO_REFUND_REASON':
      return (
        `${option}: refund ${outcomeId} is stored without a refund reason, which a ` +
        `REFUND_REQUESTED must carry, so it cannot be asked for again as it was; ` +
        `refund the buyer through a new REFUND_REQUESTED event upstream`
      );
  }
}

/** "was already retried as <id>, which is <state>; <what to do about it>". */
function alreadyRetried(replacement: StoredRequest | null, retryCommand: string): string {
  if (replacement === null)
    return 'was already retried (its new request is not readable now); run the command again';
  const named = `was already retried as ${replacement.outcomeId}, which is ${replacement.state}`;
  switch (replacement.state) {
    case 'FAILED':
      return `${named}: ask for that one again: ${retryCommand} --outcome ${replacement.outcomeId}`;
    case 'REQUESTED':
      return `${named} (waiting for its settlement); nothing to do`;
    case 'PAID':
      return `${named}; the money has left, nothing to do`;
    case 'RETRIED':
      return (
        `${named} itself; ${retryCommand} --outcome ${replacement.outcomeId} names the request ` +
        `that replaced it`
      );
  }
}
