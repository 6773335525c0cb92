/**
 * The first half of the story: money arrives. A deposit before its order,
 * the order opening, installments, and a gateway callback delivered twice.
 */
import { orderOpened, paymentConfirmed } from './inbound-events';
import {
  build,
  design,
  finishing,
  inspectionSeconds,
  type StoryCast,
  type StoryStep,
} from './story-cast';

export function fundingSteps(cast: StoryCast): StoryStep[] {
  const { orderId, currency } = cast;
  const id = cast.event;
  const ref = cast.reference;
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

  return [
    {
      title: 'A deposit arrives before its order',
      verdict: 'KEPT',
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
      verdict: 'APPLIED',
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
      verdict: 'APPLIED',
      happens: `The buyer pays 1500.00 of the 4000.00 ${build} costs.`,
      because:
        `1500.00 of 4000.00 is not enough: ${build} is PARTIALLY_FUNDED. The money sits in the ` +
        "milestone's own escrow-hold account, moved there from gateway clearing.",
      messages: () => [installment(id('installment-1'), ref('ch_installment_1'), '1500.00')],
    },
    {
      title: `A second installment completes ${build}`,
      verdict: 'APPLIED',
      happens: `The buyer pays the remaining 2500.00.`,
      because:
        `${build} is FUNDED. It is not released: nobody has confirmed delivery yet, and money ` +
        'moves to the provider only when the milestone is reached.',
      messages: () => [installment(id('installment-2'), ref('ch_installment_2'), '2500.00')],
    },
    {
      title: 'The gateway delivers the same callback again',
      verdict: 'DUPLICATE',
      happens:
        'The gateway adapter did not see its acknowledgement and retries the 2500.00 callback: the ' +
        'same gateway reference, with a new eventId and timestamp.',
      because:
        'Payments deduplicate on (gateway, gatewayReference), not on eventId. The inbox already ' +
        `holds that key with the same substance, so the retry has no effect: ${build} keeps its ` +
        'version and balances, nothing is posted and nothing is published.',
      messages: () => [installment(id('installment-2-retry'), ref('ch_installment_2'), '2500.00')],
    },
  ];
}
