/**
 * A story whose money went through one gateway ("stripe"), built through the
 * one path, and the report that gateway would write for it: every charge
 * (an overpayment and a service fee among them), a payout and a refund
 * paid, a chargeback on held money won back, a chargeback after release.
 * The reconcile-gateway tests match the two and then change one side.
 */
import type { EscrowCommand, Settle } from '../../src/domain/escrow';
import {
  type ContractPipeline,
  milestone,
  openOrder,
  payment,
  reached,
  refund,
} from '../support/contract-pipeline';
import { outboxMark, outboxOf } from '../support/contract-rows';
import type { TestContext } from '../support/test-context';

export const gateway = 'stripe';

export interface ReportRow {
  reference: string;
  type: string;
  amount: string;
  currency: string;
}

const settle = (
  type: Settle['type'],
  orderId: string,
  gatewayReference: string,
  amount: string,
  outcomeId: string | null = null,
): EscrowCommand => ({
  type,
  eventId: `${type}-${gatewayReference}`,
  orderId,
  milestoneId: null,
  outcomeId,
  gateway,
  gatewayReference,
  amount,
  currency: 'USD',
  reason: null,
});

async function requested(
  ctx: TestContext,
  pipeline: ContractPipeline,
  orderId: string,
  command: EscrowCommand,
  type: 'PAYOUT_REQUESTED' | 'REFUND_REQUESTED',
): Promise<string> {
  const mark = await outboxMark(ctx.db, orderId);
  await pipeline.deliver(command);
  const row = (await outboxOf(ctx.db, orderId, mark)).find((outbox) => outbox.type === type);
  return row!.payload.outcomeId as string;
}

/** Builds the story; returns the gateway's report of it, one row per movement. */
export async function buildGatewayStory(
  ctx: TestContext,
  pipeline: ContractPipeline,
): Promise<ReportRow[]> {
  const deliver = (command: EscrowCommand) => pipeline.deliver(command);
  const open = (orderId: string, amount: string) =>
    deliver(openOrder(orderId, [milestone('m-1', amount)], { providerId: `p-${orderId}` }));

  await open('o-g1', '1000.00');
  await deliver(payment('o-g1', 'm-1', '1000.00', 'ch-g1'));
  await deliver(payment('o-g1', null, '25.00', 'ch-g1-fee', { kind: 'SERVICE_FEE' }));
  const payout = await requested(ctx, pipeline, 'o-g1', reached('o-g1', 'm-1'), 'PAYOUT_REQUESTED');
  await deliver(settle('PAYOUT_PAID', 'o-g1', 'po-g1', '900.00', payout));

  await open('o-g2', '500.00');
  await deliver(payment('o-g2', 'm-1', '500.00', 'ch-g2'));
  const refunded = await requested(
    ctx,
    pipeline,
    'o-g2',
    refund('o-g2', 'm-1', '200.00'),
    'REFUND_REQUESTED',
  );
  await deliver(settle('REFUND_PAID', 'o-g2', 're-g2', '200.00', refunded));

  await open('o-g3', '300.00');
  await deliver(payment('o-g3', 'm-1', '300.00', 'ch-g3'));
  await deliver(settle('CHARGEBACK', 'o-g3', 'ch-g3', '300.00'));
  await deliver(settle('CHARGEBACK_REVERSED', 'o-g3', 'ch-g3', '300.00'));

  await open('o-g4', '800.00');
  await deliver(payment('o-g4', 'm-1', '800.00', 'ch-g4'));
  await deliver(reached('o-g4', 'm-1'));
  await deliver(settle('CHARGEBACK', 'o-g4', 'ch-g4', '800.00'));

  // 100.00 more than the milestone needs: refunded at once, still one 600.00 charge.
  await open('o-g5', '500.00');
  await deliver(payment('o-g5', 'm-1', '600.00', 'ch-g5'));

  const row = (reference: string, type: string, amount: string): ReportRow => ({
    reference,
    type,
    amount,
    currency: 'USD',
  });
  return [
    row('ch-g1', 'charge', '1000.00'),
    row('ch-g1-fee', 'charge', '25.00'),
    row('po-g1', 'payout', '900.00'),
    row('ch-g2', 'charge', '500.00'),
    row('re-g2', 'refund', '200.00'),
    row('ch-g3', 'charge', '300.00'),
    row('ch-g3', 'chargeback', '300.00'),
    row('ch-g3', 'chargeback_reversal', '300.00'),
    row('ch-g4', 'charge', '800.00'),
    row('ch-g4', 'chargeback', '800.00'),
    row('ch-g5', 'charge', '600.00'),
  ];
}

/** The plain format's CSV of rows, each at `at`. */
export function plainReport(rows: readonly ReportRow[], at: Date): string {
  return [
    'gateway_reference,type,amount,currency,occurred_at',
    ...rows.map((r) => [r.reference, r.type, r.amount, r.currency, at.toISOString()].join(',')),
  ].join('\n');
}
