/**
 * The marketplace story the demo tells: a kitchen renovation in three
 * milestones, followed from a deposit that arrives before its order to a
 * dispute settled by a split. Each step is what the upstream services send,
 * said in business terms, with why the worker answers as it does (the rules
 * are CONTRACT.md's; the worker, not this file, applies them).
 */
import type { OrderView } from '../views/order-view';
import {
  disputeEvent,
  type InboundMessage,
  milestoneReached,
  orderOpened,
  paymentConfirmed,
} from './inbound-events';

export interface StoryStep {
  readonly title: string;
  /** What happens, in business terms. */
  readonly happens: string;
  /** Why the worker does what it does. */
  readonly because: string;
  /** What the upstream services send; the view is the order as it stands before the step. */
  messages(view: OrderView | undefined): InboundMessage[];
  /** The worker acts on its own (the inspection timer), so it is waited for in the database. */
  readonly done?: { what: string; check(view: OrderView | undefined): boolean };
}

export interface StoryCast {
  readonly orderId: string;
  readonly buyerId: string;
  readonly providerId: string;
  readonly currency: string;
  /** PLATFORM_FEE_RATE, for the narration. */
  readonly feeRate: string;
}

/** Ids unique to this run, so a shared database or prefix never sees one twice. */
export function storyCast(runId: string, feeRate: string): StoryCast {
  return {
    orderId: `kitchen-${runId}`,
    buyerId: 'buyer-maria',
    providerId: 'provider-oak-and-tile',
    currency: 'USD',
    feeRate,
  };
}

const [design, build, finishing] = ['m1-design', 'm2-build', 'm3-finishing'] as const;
const inspectionSeconds = 2;

export function storySteps(cast: StoryCast, runId: string): StoryStep[] {
  const { orderId, currency } = cast;
  const id = (name: string) => `${runId}-${name}`;
  const ref = (name: string) => `${name}_${runId}`;
  const versionOf = (view: OrderView | undefined, milestoneId: string) =>
    view?.milestones.find((m) => m.milestoneId === milestoneId)?.version;
  const installment = (eventId: string, reference: string, amount: string) =>
    paymentConfirmed({
      eventId,
      gateway: 'stripe',
      gatewayReference: reference,
      orderId,
      milestoneId: build,
      kind: 'INSTALLMENT',
      amount,
      currency,
    });
  const feePercent = `PLATFORM_FEE_RATE ${cast.feeRate}`;

  return [
    {
      title: 'A deposit arrives before its order',
      happens:
        `${cast.buyerId} pays a 1000.00 ${currency} deposit for ${design} through stripe. The ` +
        "gateway's callback reaches escrow-worker before the marketplace's ORDER_OPENED: they " +
        'travel on different topics, so either can come first.',
      because:
        'The worker does not know the order yet. It keeps the payment (verdict KEPT) instead of ' +
        'dropping or rejecting it: nothing is funded and nothing is published until the order exists.',
      messages: () => [
        paymentConfirmed({
          eventId: id('deposit'),
          gateway: 'stripe',
          gatewayReference: ref('ch_deposit'),
          orderId,
          milestoneId: design,
          kind: 'DEPOSIT',
          amount: '1000.00',
          currency,
        }),
      ],
    },
    {
      title: 'The marketplace opens the order',
      happens:
        `ORDER_OPENED: a kitchen renovation for 7000.00 ${currency} by ${cast.providerId}, in three ` +
        `milestones: ${design} 1000.00 (released when the design report is submitted, after a ` +
        `${inspectionSeconds}-second inspection period; days in real life), ${build} 4000.00 (on ` +
        `delivery confirmed) and ${finishing} 2000.00 (on the buyer's approval).`,
      because:
        'Opening the order replays what was kept for it, in arrival order, in the same database ' +
        `transaction: the deposit now funds ${design}, which is FUNDED. The other two wait for money.`,
      messages: () => [
        orderOpened({
          eventId: id('order-opened'),
          orderId,
          buyerId: cast.buyerId,
          providerId: cast.providerId,
          currency,
          milestones: [
            {
              milestoneId: design,
              sequence: 1,
              amount: '1000.00',
              releaseCondition: 'REPORT_SUBMITTED',
              inspectionPeriodSeconds: inspectionSeconds,
            },
            {
              milestoneId: build,
              sequence: 2,
              amount: '4000.00',
              releaseCondition: 'DELIVERY_CONFIRMED',
              inspectionPeriodSeconds: 0,
            },
            {
              milestoneId: finishing,
              sequence: 3,
              amount: '2000.00',
              releaseCondition: 'BUYER_APPROVED',
              inspectionPeriodSeconds: 0,
            },
          ],
        }),
      ],
    },
    {
      title: `A first installment for ${build}`,
      happens: `The buyer pays 1500.00 of the 4000.00 ${build} costs.`,
      because:
        `1500.00 of 4000.00 is not enough: ${build} is PARTIALLY_FUNDED. The money sits in the ` +
        "milestone's own escrow-hold account, moved there from gateway clearing.",
      messages: () => [installment(id('installment-1'), ref('ch_installment_1'), '1500.00')],
    },
    {
      title: `A second installment completes ${build}`,
      happens: `The buyer pays the remaining 2500.00.`,
      because:
        `${build} is FUNDED. It is not released: nobody has confirmed delivery yet, and money ` +
        'moves to the provider only when the milestone is reached.',
      messages: () => [installment(id('installment-2'), ref('ch_installment_2'), '2500.00')],
    },
    {
      title: 'The gateway delivers the same callback again',
      happens:
        'The gateway adapter did not see its acknowledgement and retries the 2500.00 callback: the ' +
        'same gateway reference, with a new eventId and timestamp.',
      because:
        'Payments deduplicate on (gateway, gatewayReference), not on eventId. The inbox already ' +
        `holds that key with the same substance, so the retry has no effect: ${build} keeps its ` +
        'version and balances, nothing is posted and nothing is published.',
      messages: () => [installment(id('installment-2-retry'), ref('ch_installment_2'), '2500.00')],
    },
    {
      title: `The design report is submitted: ${design} is reached`,
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
          disputeId: `dispute-${runId}`,
          openedBy: cast.buyerId,
          reason: 'grout colour does not match the sample',
        }),
      ],
    },
    {
      title: 'The dispute desk settles it with a split',
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
            disputeId: `dispute-${runId}`,
            resolution: { providerAmount: '1200.00', buyerAmount: '800.00' },
            actor: 'desk-agent-7',
            ...(version === undefined ? {} : { expectedVersion: version }),
          }),
        ];
      },
    },
  ];
}
