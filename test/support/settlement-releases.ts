/**
 * What each release recovers (docs/settlements.md, "Recovering a
 * receivable"): a milestone released or the provider's part of a resolved
 * dispute nets the provider's receivable first, oldest chargeback first, of
 * any order in the same currency; PAYOUT_REQUESTED asks for the rest, with
 * gross = fee + recovered + net, and nothing is asked when nothing is left.
 * The model's chargebacks take what each release recovered.
 */
import type { Decision, OutcomeDraft } from '../../src/domain/escrow';
import { min, minorOf, type ModelChargeback, type SettlementRecords } from './settlement-figures';

export interface ReleaseRecovery {
  readonly currency: string;
  readonly fee: bigint;
  readonly recovered: bigint;
  /** Netted a chargeback of another order of the provider. */
  readonly otherOrder: boolean;
  /** Nothing left to pay: the whole net recovered. */
  readonly whole: boolean;
}

/** The decision's releases in order, each netted against the receivables; with the rules broken. */
export function recoverReleases(decision: Decision, records: SettlementRecords) {
  const releases: ReleaseRecovery[] = [];
  const problems: string[] = [];
  decision.transactions.forEach((transaction, index) => {
    if (transaction.kind !== 'RELEASE' && transaction.kind !== 'DISPUTE_RESOLUTION') return;
    const reported = decision.outcomes.find(
      (outcome) =>
        outcome.transactionIndex === index &&
        (outcome.type === 'MILESTONE_RELEASED' || outcome.type === 'DISPUTE_RESOLVED'),
    );
    if (reported === undefined) {
      problems.push(`${transaction.kind} of ${transaction.milestoneId} is reported by no outcome`);
      return;
    }
    const fields = reported.fields as Record<string, string>;
    const currency = fields.currency!;
    const gross = minorOf(fields.grossAmount ?? fields.providerAmount!, currency);
    const fee = minorOf(fields.feeAmount!, currency);
    const providerId = records.orders.get(transaction.orderId)!.providerId;
    const { recovered, otherOrder } = recover(records.chargebacks.values(), {
      orderId: transaction.orderId,
      providerId,
      currency,
      net: gross - fee,
    });
    if (minorOf(fields.recoveredAmount!, currency) !== recovered)
      problems.push(
        `${reported.type} of ${transaction.milestoneId} recovered ${fields.recoveredAmount}, expected ${recovered}`,
      );
    const payouts = decision.outcomes.filter(
      (outcome) => outcome.type === 'PAYOUT_REQUESTED' && outcome.transactionIndex === index,
    );
    problems.push(...payoutProblems(payouts, { gross, fee, recovered }, currency));
    releases.push({ currency, fee, recovered, otherOrder, whole: recovered === gross - fee });
  });
  return { releases, problems };
}

/** Nets `net` against the provider's outstanding chargebacks, oldest first. */
function recover(
  chargebacks: Iterable<ModelChargeback>,
  release: { orderId: string; providerId: string; currency: string; net: bigint },
) {
  let left = release.net;
  let otherOrder = false;
  for (const chargeback of chargebacks) {
    if (left <= 0n) break;
    if (chargeback.reversed || chargeback.providerId !== release.providerId) continue;
    if (chargeback.currency !== release.currency) continue;
    const taken = min(left, chargeback.receivable - chargeback.recovered);
    if (taken <= 0n) continue;
    chargeback.recovered += taken;
    left -= taken;
    if (chargeback.orderId !== release.orderId) otherOrder = true;
  }
  return { recovered: release.net - left, otherOrder };
}

function payoutProblems(
  payouts: readonly OutcomeDraft[],
  release: { gross: bigint; fee: bigint; recovered: bigint },
  currency: string,
): string[] {
  const paid = release.gross - release.fee - release.recovered;
  if (paid <= 0n)
    return payouts.length === 0 ? [] : ['a release that pays nothing asked for a payout'];
  if (payouts.length !== 1) return [`a release paying ${paid} asked for ${payouts.length} payouts`];
  const fields = payouts[0]!.fields as Record<string, string>;
  const [gross, fee, recovered, net] = [
    fields.grossAmount!,
    fields.feeAmount!,
    fields.recoveredAmount!,
    fields.netAmount!,
  ].map((text) => minorOf(text, currency)) as [bigint, bigint, bigint, bigint];
  const published = [gross, fee, recovered, net].join('/');
  const expected = [release.gross, release.fee, release.recovered, paid].join('/');
  const problems: string[] = [];
  if (published !== expected)
    problems.push(`PAYOUT_REQUESTED gross/fee/recovered/net ${published}, expected ${expected}`);
  if (recovered + net + fee !== gross)
    problems.push('PAYOUT_REQUESTED: recovered + net + fee ≠ gross');
  return problems;
}
