/**
 * A clean escrow database with the whole money loop in it, for the
 * reconciliation tests of settlements: real events through applyEvent (the
 * one path), each situation on an order and a provider of its own, so that a
 * corruption of one touches one story only:
 *
 *   o-paid         released, its payout paid
 *   o-open         released, its payout requested and not settled (fresh)
 *   o-failed       released, its payout failed (fresh)
 *   o-retried      released, its payout failed, asked for again (payouts retry), the retry paid
 *   o-refund-paid  a refund requested and paid
 *   o-refund-fail  a refund requested and failed (fresh)
 *   o-cb-held      a chargeback taken from the hold: the milestone needs funding again
 *   o-cb-topped    the same, funded again by a second payment, then the chargeback reversed:
 *                  what the milestone no longer needs is refunded to the buyer
 *   o-cb-disputed  a chargeback taken from disputed funds, the dispute then resolved
 *   o-debt         released and paid, then charged back in full: a provider receivable
 *                  (p-debtor), which the release of o-debt-next nets in part
 *   o-won          released, charged back, netted by o-won-next, then the chargeback
 *                  reversed: the receivable cancelled and the recovered part paid back
 *   o-fee          a service fee charged back: the platform's loss
 *   o-early        a chargeback kept before its payment, then applied with it
 *   kept (fresh)   a payout settlement naming no outcome, a chargeback whose payment
 *                  never came
 *
 * The relay is simulated by marking the outbox published.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../../src/config';
import type { EscrowCommand, MilestonePlan, Settle } from '../../src/domain/escrow';
import { retryRequest } from '../../src/cli/retry-disbursement';
import { deliverer } from './reconciliation-scenario';
import { settlement } from '../support/contract-pipeline';

const plan = (amount: string): MilestonePlan => ({
  milestoneId: 'm-1',
  sequence: 1,
  amount,
  releaseCondition: 'DELIVERY_CONFIRMED',
  inspectionPeriodSeconds: 0,
});

export const opened = (orderId: string, amount: string, providerId = `p-${orderId}`) =>
  ({
    type: 'ORDER_OPENED',
    eventId: `open-${orderId}`,
    orderId,
    buyerId: `b-${orderId}`,
    providerId,
    currency: 'USD',
    milestones: [plan(amount)],
  }) satisfies EscrowCommand;

export const paid = (
  orderId: string,
  amount: string,
  options: { kind?: 'DEPOSIT' | 'SERVICE_FEE'; ref?: string } = {},
) =>
  ({
    type: 'PAYMENT_CONFIRMED',
    eventId: `pay-${options.ref ?? `ch-${orderId}`}`,
    gateway: 'stripe',
    gatewayReference: options.ref ?? `ch-${orderId}`,
    orderId,
    milestoneId: options.kind === 'SERVICE_FEE' ? null : 'm-1',
    kind: options.kind ?? 'DEPOSIT',
    amount,
    currency: 'USD',
  }) satisfies EscrowCommand;

const reached = (orderId: string) =>
  ({
    type: 'MILESTONE_REACHED',
    eventId: `reached-${orderId}`,
    orderId,
    milestoneId: 'm-1',
    condition: 'DELIVERY_CONFIRMED',
  }) satisfies EscrowCommand;

/** The settlements of the stories built here (test/support/contract-pipeline.ts). */
export { settlement };

/** The outcome id of an order's payout or refund request (the first, or the one at `index`). */
export async function requestOf(
  db: Knex,
  orderId: string,
  kind: 'PAYOUT' | 'REFUND',
  index = 0,
): Promise<string> {
  const rows = (await db('disbursements')
    .where({ order_id: orderId, kind })
    .orderBy('requested_at')
    .orderBy('outcome_id')
    .pluck('outcome_id')) as string[];
  const outcomeId = rows[index];
  if (outcomeId === undefined) throw new Error(`story: order ${orderId} has no ${kind} #${index}`);
  return outcomeId;
}

/** A kept payout settlement names this outcome, which no request has. */
export const unknownOutcomeId = randomUUID();

export async function buildSettlementStory(db: Knex, config: Config): Promise<void> {
  const deliver = deliverer(db, config);
  const run = async (...commands: EscrowCommand[]) => {
    for (const command of commands) {
      const verdict = await deliver(command);
      if (verdict !== 'APPLIED' && verdict !== 'KEPT') {
        throw new Error(`story: ${command.type} ${command.eventId} was ${verdict}`);
      }
    }
  };
  const release = (orderId: string, amount: string, providerId?: string) =>
    run(opened(orderId, amount, providerId), paid(orderId, amount), reached(orderId));
  const settle = async (
    type: Settle['type'],
    orderId: string,
    kind: 'PAYOUT' | 'REFUND',
    amount: string,
    reason: string | null = null,
  ) =>
    run(
      settlement(type, orderId, {
        outcomeId: await requestOf(db, orderId, kind),
        gatewayReference: `tr-${orderId}`,
        amount,
        reason,
      }),
    );
  const refund = (orderId: string, amount: string) =>
    ({
      type: 'REFUND_REQUESTED',
      eventId: `refund-${orderId}`,
      orderId,
      milestoneId: 'm-1',
      amount,
      reason: 'scope cut',
    }) satisfies EscrowCommand;
  const chargeback = (orderId: string, amount: string, ref = `ch-${orderId}`) =>
    settlement('CHARGEBACK', orderId, { gatewayReference: ref, amount });

  await release('o-paid', '1000.00');
  await settle('PAYOUT_PAID', 'o-paid', 'PAYOUT', '900.00');
  await release('o-open', '1000.00');
  await release('o-failed', '1000.00');
  await settle('PAYOUT_FAILED', 'o-failed', 'PAYOUT', '900.00', 'ACCOUNT_CLOSED');
  await release('o-retried', '1000.00');
  await settle('PAYOUT_FAILED', 'o-retried', 'PAYOUT', '900.00', 'ACCOUNT_CLOSED');
  const options = { now: new Date(), topicPrefix: config.TOPIC_PREFIX, dryRun: false };
  const retry = await retryRequest(
    db,
    'PAYOUT',
    await requestOf(db, 'o-retried', 'PAYOUT'),
    options,
  );
  if (retry.status !== 'requested') throw new Error(`story: the retry was ${retry.status}`);
  await run(
    settlement('PAYOUT_PAID', 'o-retried', {
      outcomeId: await requestOf(db, 'o-retried', 'PAYOUT', 1),
      gatewayReference: 'tr-o-retried-2',
      amount: '900.00',
    }),
  );

  await run(opened('o-refund-paid', '1000.00'), paid('o-refund-paid', '1000.00'));
  await run(refund('o-refund-paid', '300.00'));
  await settle('REFUND_PAID', 'o-refund-paid', 'REFUND', '300.00');
  await run(opened('o-refund-fail', '1000.00'), paid('o-refund-fail', '1000.00'));
  await run(refund('o-refund-fail', '200.00'));
  await settle('REFUND_FAILED', 'o-refund-fail', 'REFUND', '200.00', 'CARD_EXPIRED');

  await run(opened('o-cb-held', '1000.00'), paid('o-cb-held', '1000.00'));
  await run(chargeback('o-cb-held', '300.00'));
  // Charged back from the hold, topped up, then won: the 300.00 returned goes to the buyer.
  await run(opened('o-cb-topped', '1000.00'), paid('o-cb-topped', '1000.00'));
  await run(chargeback('o-cb-topped', '300.00'), paid('o-cb-topped', '300.00', { ref: 'ch-top' }));
  const won = { gatewayReference: 'ch-o-cb-topped', amount: '300.00' };
  await run(settlement('CHARGEBACK_REVERSED', 'o-cb-topped', won));

  const disputeId = 'd-o-cb-disputed';
  const onDispute = { orderId: 'o-cb-disputed', milestoneId: 'm-1', disputeId };
  await run(opened('o-cb-disputed', '1000.00'), paid('o-cb-disputed', '1000.00'));
  await run({ type: 'DISPUTE_OPENED', eventId: 'open-d', ...onDispute });
  await run(chargeback('o-cb-disputed', '400.00'));
  await run({
    type: 'DISPUTE_RESOLVED',
    eventId: 'resolve-d',
    ...onDispute,
    resolution: { providerAmount: '300.00', buyerAmount: '300.00' },
  });

  await release('o-debt', '1000.00', 'p-debtor');
  await settle('PAYOUT_PAID', 'o-debt', 'PAYOUT', '900.00');
  await run(chargeback('o-debt', '1000.00'));
  // 500.00 at 10 %: net 450.00, all of it recovered; nothing is asked.
  await release('o-debt-next', '500.00', 'p-debtor');

  await release('o-won', '1000.00', 'p-won');
  await run(chargeback('o-won', '1000.00'));
  await release('o-won-next', '200.00', 'p-won');
  await run(
    settlement('CHARGEBACK_REVERSED', 'o-won', { gatewayReference: 'ch-o-won', amount: '1000.00' }),
  );

  await run(
    opened('o-fee', '1000.00'),
    paid('o-fee', '25.00', { kind: 'SERVICE_FEE' }),
    settlement('CHARGEBACK', 'o-fee', {
      gatewayReference: 'ch-o-fee',
      amount: '25.00',
      milestoneId: null,
    }),
  );

  await run(
    opened('o-early', '1000.00'),
    chargeback('o-early', '100.00'),
    paid('o-early', '1000.00'),
  );

  // Kept, and fresh: a settlement for an outcome that does not exist, a chargeback whose
  // payment has not come.
  await run(
    settlement('PAYOUT_PAID', 'o-paid', {
      outcomeId: unknownOutcomeId,
      gatewayReference: 'tr-unknown',
      amount: '900.00',
    }),
    opened('o-lost', '1000.00'),
    chargeback('o-lost', '50.00', 'ch-never'),
  );

  await db('outbox').whereNull('published_at').update({ published_at: db.fn.now() });
}
