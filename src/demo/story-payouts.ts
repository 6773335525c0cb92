/**
 * The money loop after release, the first part: the payout service pays a
 * payout; the gateway returns a refund (REFUND_FAILED), an operator asks for
 * it again with the real `escrow-worker refunds retry` command, run
 * in-process on the demo's database, and the gateway pays the new request.
 * Settlements name the request by the outcomeId of the PAYOUT_REQUESTED or
 * REFUND_REQUESTED the demo read back from Kafka, as the payout service would.
 */
import { runRetry } from '../cli/retry-command';
import type { Config } from '../config';
import { settlement } from './inbound-events';
import type { PublishedOutcome } from './outcome-listener';
import { build, design, type OperatorRun, type StoryCast, type StoryStep } from './story-cast';

type RequestType = 'PAYOUT_REQUESTED' | 'REFUND_REQUESTED';

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * The request of `type` for a milestone among the outcomes read back: the one
 * its release or refund asked for, or the one an operator's retry asked for
 * again (its cause is "retry:" and the failed outcomeId). The story cannot go
 * on without it.
 */
export function requestFor(
  published: readonly PublishedOutcome[],
  type: RequestType,
  milestoneId: string,
  asked: 'first' | 'retry' = 'first',
): PublishedOutcome {
  const request = published.find(
    (outcome) =>
      outcome.value.type === type &&
      outcome.value.milestoneId === milestoneId &&
      text(outcome.value.causeEventId).startsWith('retry:') === (asked === 'retry'),
  );
  if (request === undefined) {
    throw new Error(
      `no ${type} for ${milestoneId}${asked === 'retry' ? ' asked for again' : ''} was read back ` +
        'from Kafka, so there is nothing to settle',
    );
  }
  return request;
}

/** The operator's command, run in-process as `escrow-worker refunds retry` runs it, output captured. */
async function retryRefund(
  config: Config,
  published: readonly PublishedOutcome[],
): Promise<OperatorRun> {
  const failed = requestFor(published, 'REFUND_REQUESTED', build);
  const args = ['retry', '--outcome', failed.outcomeId];
  const output: string[] = [];
  const collect = (written: string) => void output.push(...written.trimEnd().split('\n'));
  const exitCode = await runRetry('REFUND', args, {
    config: () => config,
    stdout: collect,
    stderr: collect,
  });
  return { command: `escrow-worker refunds ${args.join(' ')}`, exitCode, output };
}

export function payoutSteps(cast: StoryCast): StoryStep[] {
  const { orderId, currency } = cast;
  const id = cast.event;
  const ref = cast.reference;

  return [
    {
      title: `The payout service pays the provider for ${design}`,
      verdict: 'APPLIED',
      happens:
        `The payout service has transferred the net of ${design}'s PAYOUT_REQUESTED to ` +
        `${cast.providerId}'s bank and reports PAYOUT_PAID, naming the request by its outcomeId.`,
      because:
        "A payout settles only for the request's exact net and currency (anything else is refused " +
        'SETTLEMENT_MISMATCH and nothing moves). The net leaves the provider payable account ' +
        'through gateway clearing (PAYOUT_SETTLEMENT) and the request is PAID. The milestones do ' +
        'not change: their money left escrow when it was released.',
      messages: (_view, published) => {
        const payout = requestFor(published, 'PAYOUT_REQUESTED', design);
        return [
          settlement({
            eventId: id('design-payout-paid'),
            type: 'PAYOUT_PAID',
            orderId,
            milestoneId: design,
            outcomeId: payout.outcomeId,
            gateway: 'stripe',
            gatewayReference: ref('po_design'),
            amount: text(payout.value.netAmount),
            currency,
          }),
        ];
      },
      showProvider: true,
    },
    {
      title: `The refund of ${build} comes back: the card account is closed`,
      verdict: 'APPLIED',
      happens:
        `The gateway tried to return the 2000.00 PARTIAL_COMPLETION refund of ${build} to the card ` +
        'the installments came from. The buyer has closed that card account; the gateway adapter ' +
        'reports REFUND_FAILED with reason ACCOUNT_CLOSED.',
      because:
        'Nothing left the platform, so nothing is posted: the 2000.00 stays in the buyer refund ' +
        'payable account and the request is FAILED (REFUND_FAILED on escrow.events.v1). It is not ' +
        'asked for again by itself: sent to the same closed account it would only bounce again.',
      messages: (_view, published) => {
        const refund = requestFor(published, 'REFUND_REQUESTED', build);
        return [
          settlement({
            eventId: id('build-refund-failed'),
            type: 'REFUND_FAILED',
            orderId,
            milestoneId: build,
            outcomeId: refund.outcomeId,
            gateway: 'stripe',
            gatewayReference: ref('re_build'),
            amount: text(refund.value.amount),
            currency,
            reason: 'ACCOUNT_CLOSED',
          }),
        ];
      },
    },
    {
      title: 'Support asks for the refund again',
      verdict: 'APPLIED',
      happens:
        `${cast.buyerId} gives support a card that is open. Support runs the operator command ` +
        'for the failed request (here in-process, on the demo database).',
      because:
        'The command marks the failed request RETRIED and writes a new REFUND_REQUESTED for the same ' +
        '2000.00 with a new outcomeId through the outbox, caused by "retry:" and the failed ' +
        'outcomeId. No ledger transaction: the money stays payable until the new request is paid. ' +
        'One open request per money: running the command again is refused and names this one.',
      messages: () => [],
      operator: retryRefund,
    },
    {
      title: 'The gateway pays the new refund',
      verdict: 'APPLIED',
      happens:
        'The gateway sends the 2000.00 to the new card and reports REFUND_PAID for the new ' +
        'request, by the outcomeId the retry published.',
      because:
        'The buyer refund payable is settled through gateway clearing (REFUND_SETTLEMENT) and the ' +
        'new request is PAID. The failed one stays RETRIED: a settlement naming it now would be ' +
        'refused INVALID_STATE, so the money cannot be paid twice.',
      messages: (_view, published) => {
        const retried = requestFor(published, 'REFUND_REQUESTED', build, 'retry');
        return [
          settlement({
            eventId: id('build-refund-paid'),
            type: 'REFUND_PAID',
            orderId,
            milestoneId: build,
            outcomeId: retried.outcomeId,
            gateway: 'stripe',
            gatewayReference: ref('re_build_retry'),
            amount: text(retried.value.amount),
            currency,
          }),
        ];
      },
    },
  ];
}
