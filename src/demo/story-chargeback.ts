/**
 * The money loop after release, the second part: the buyer's bank charges
 * back a payment whose milestone was released and whose payout is paid, so
 * the provider owes it (a provider receivable); the provider's next order,
 * for another buyer, is funded and delivered, and its release recovers the
 * receivable before anything is paid out (PAYOUT_REQUESTED shows
 * recoveredAmount). The provider's figures are shown after each of these.
 */
import { milestoneReached, orderOpened, paymentConfirmed, settlement } from './inbound-events';
import { design, type StoryCast, type StoryStep, tiling } from './story-cast';

/** The next order's buyer: the receivable is the provider's, recovered from any of their orders. */
const nextBuyer = 'buyer-jonas';

export function chargebackSteps(cast: StoryCast): StoryStep[] {
  const { orderId, nextOrderId, currency } = cast;
  const id = cast.event;
  const ref = cast.reference;

  return [
    {
      title: `The buyer's bank pulls back the deposit that paid for ${design}`,
      verdict: 'APPLIED',
      happens:
        `Weeks later the card behind the 1000.00 deposit for ${design} is reported stolen, and ` +
        'the bank takes the money back: the gateway adapter reports a CHARGEBACK of that payment, ' +
        `named by its gateway reference. ${design} was released long ago and its payout is paid: ` +
        'the provider has the money.',
      because:
        'A chargeback takes money first from what the milestone still holds, then from its disputed ' +
        'funds, then from what it released. Here all of it was released: the platform fee on it is ' +
        'reversed from revenue (the platform does not profit from a charged-back sale) and the ' +
        "provider's net becomes a provider receivable, netted from this provider's next releases, " +
        `of any order. ${design} stays RELEASED; had the money still been held, its hold would ` +
        'shrink and it would need funding again.',
      messages: () => [
        settlement({
          eventId: id('deposit-charged-back'),
          type: 'CHARGEBACK',
          orderId,
          milestoneId: design,
          gateway: 'stripe',
          gatewayReference: ref('ch_deposit'),
          amount: '1000.00',
          currency,
          reason: 'FRAUDULENT',
        }),
      ],
      showProvider: true,
    },
    {
      title: `${cast.providerId} takes another order: a bathroom`,
      verdict: 'APPLIED',
      orderId: nextOrderId,
      happens:
        `The marketplace opens ${nextOrderId} for ${nextBuyer}, with the same provider: one ` +
        `milestone, ${tiling} 1500.00, released on delivery confirmed with no inspection period.`,
      because:
        `A new order in PENDING_FUNDING. The receivable belongs to ${cast.providerId}, not to the ` +
        "kitchen order or its buyer: it waits for this provider's next release, whichever order it is.",
      messages: () => [
        orderOpened({
          eventId: id('bathroom-opened'),
          orderId: nextOrderId,
          buyerId: nextBuyer,
          providerId: cast.providerId,
          currency,
          milestones: [
            {
              milestoneId: tiling,
              sequence: 1,
              amount: '1500.00',
              releaseCondition: 'DELIVERY_CONFIRMED',
              inspectionPeriodSeconds: 0,
            },
          ],
        }),
      ],
    },
    {
      title: `${tiling} is paid and delivered: its release recovers the receivable`,
      verdict: 'APPLIED',
      orderId: nextOrderId,
      happens:
        `${nextBuyer} pays 1500.00 for ${tiling}, and the site manager confirms delivery. The two ` +
        'travel on different topics; whichever the worker reads last releases the milestone.',
      because:
        'The release charges the fee as any release does, then, before anything is paid, nets what ' +
        "the provider owes (oldest chargeback first): PAYOUT_REQUESTED's recoveredAmount is what " +
        'was kept back and netAmount what is paid, gross = fee + recovered + net. The receivable is ' +
        'paid off; a release smaller than it would have paid nothing and asked for no payout.',
      messages: () => [
        paymentConfirmed({
          eventId: id('tiling-paid'),
          gateway: 'stripe',
          gatewayReference: ref('ch_tiling'),
          orderId: nextOrderId,
          milestoneId: tiling,
          kind: 'DEPOSIT',
          amount: '1500.00',
          currency,
        }),
        milestoneReached({
          eventId: id('tiling-reached'),
          orderId: nextOrderId,
          milestoneId: tiling,
          condition: 'DELIVERY_CONFIRMED',
        }),
      ],
      showProvider: true,
    },
  ];
}
