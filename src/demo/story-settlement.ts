/**
 * The second half of the story: money leaves escrow. A release after the
 * inspection period, a 50% partial completion, and a dispute that freezes a
 * milestone until the dispute desk splits it.
 */
import type { OrderView } from '../views/order-view';
import { disputeEvent, milestoneReached, paymentConfirmed } from './inbound-events';
import {
  build,
  design,
  finishing,
  inspectionSeconds,
  type StoryCast,
  type StoryStep,
} from './story-cast';

export function settlementSteps(cast: StoryCast): StoryStep[] {
  const { orderId, currency } = cast;
  const id = cast.event;
  const ref = cast.reference;
  const disputeId = `dispute-${id('finishing')}`;
  const versionOf = (view: OrderView | undefined, milestoneId: string) =>
    view?.milestones.find((m) => m.milestoneId === milestoneId)?.version;
  const feePercent = `PLATFORM_FEE_RATE ${cast.feeRate}`;

  return [
    {
      title: `The design report is submitted: ${design} is reached`,
      verdict: 'APPLIED',
      happens: `The planning service reports REPORT_SUBMITTED for ${design}.`,
      because:
        `Reached and fully funded, but the buyer has ${inspectionSeconds} s to inspect the design ` +
        'before money moves: AWAITING_RELEASE until the inspection deadline.',
      messages: () => [
        milestoneReached({
          eventId: id('design-reached'),
          orderId,
          milestoneId: design,
          condition: 'REPORT_SUBMITTED',
        }),
      ],
    },
    {
      title: `The inspection period ends: the worker releases ${design}`,
      verdict: 'APPLIED',
      happens: 'Nobody sends anything. The inspection timer sees the deadline pass.',
      because:
        'Release happens when a milestone is reached AND fully funded AND not disputed AND its ' +
        'inspection period has passed, whichever comes last; here the clock came last. The fee is ' +
        `computed now, at release, from the fee policy in force (${feePercent}): ` +
        'PAYOUT_REQUESTED tells the payout service what to pay the provider.',
      messages: () => [],
      done: {
        what: `${design} being released by the inspection timer`,
        check: (view) =>
          view?.milestones.find((m) => m.milestoneId === design)?.state === 'RELEASED',
      },
    },
    {
      title: `${build} is delivered half done`,
      verdict: 'APPLIED',
      happens:
        `The site manager confirms delivery of ${build} with a finalAmount of 2000.00: half of the ` +
        'work was done, the rest is cancelled by agreement.',
      because:
        `A finalAmount below what is held makes ${build} worth 2000.00 now; the other 2000.00 goes ` +
        'back to the buyer at once (PARTIAL_COMPLETION, naming the gateway payments to refund ' +
        'through). With no inspection period the 2000.00 is released at once, less the fee.',
      messages: () => [
        milestoneReached({
          eventId: id('build-reached'),
          orderId,
          milestoneId: build,
          condition: 'DELIVERY_CONFIRMED',
          finalAmount: '2000.00',
        }),
      ],
    },
    {
      title: `${finishing} is paid in full`,
      verdict: 'APPLIED',
      happens: `The buyer pays 2000.00 for ${finishing} through adyen.`,
      because: `${finishing} is FUNDED; it waits for the buyer's approval.`,
      messages: () => [
        paymentConfirmed({
          eventId: id('finishing-paid'),
          gateway: 'adyen',
          gatewayReference: ref('psp_finishing'),
          orderId,
          milestoneId: finishing,
          kind: 'DEPOSIT',
          amount: '2000.00',
          currency,
        }),
      ],
    },
    {
      title: `The buyer disputes ${finishing}`,
      verdict: 'APPLIED',
      happens:
        'The provider says the finishing is done; the buyer will not approve it (the grout colour ' +
        'does not match the sample) and opens a dispute.',
      because:
        'A dispute freezes the milestone: its 2000.00 moves from the escrow hold to a separate ' +
        'disputed-funds account, where no release, refund or automatic payout can touch it.',
      messages: () => [
        disputeEvent({
          eventId: id('dispute-opened'),
          type: 'OPENED',
          orderId,
          milestoneId: finishing,
          disputeId,
          openedBy: cast.buyerId,
          reason: 'grout colour does not match the sample',
        }),
      ],
    },
    {
      title: 'The dispute desk settles it with a split',
      verdict: 'APPLIED',
      happens:
        'The desk agent decides: 1200.00 to the provider, 800.00 back to the buyer. The command ' +
        'carries the version the agent looked at (expectedVersion).',
      because:
        'The split must sum to exactly what is disputed. The provider part is released with the fee ' +
        'computed now (PAYOUT_REQUESTED); the buyer part is refunded (reason DISPUTE). Had the ' +
        'milestone changed since the agent looked, the command would be rejected as CONFLICT.',
      messages: (view) => {
        const version = versionOf(view, finishing);
        return [
          disputeEvent({
            eventId: id('dispute-resolved'),
            type: 'RESOLVED',
            orderId,
            milestoneId: finishing,
            disputeId,
            resolution: { providerAmount: '1200.00', buyerAmount: '800.00' },
            actor: 'desk-agent-7',
            ...(version === undefined ? {} : { expectedVersion: version }),
          }),
        ];
      },
    },
  ];
}
