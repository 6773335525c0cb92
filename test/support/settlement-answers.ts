/**
 * How each settlement must be answered (CONTRACT.md escrow.settlements.v1,
 * docs/settlements.md), from the model's records alone: kept while its order,
 * outcome or payment is unknown; refused SETTLEMENT_MISMATCH for another
 * amount, currency, kind or order; refused INVALID_STATE when its request is
 * settled already (paid, failed, retried) or its payment charged back already,
 * or when a reversal has no standing chargeback; applied otherwise. Where
 * several rules refuse it, any of their reasons is accepted.
 */
import type { RejectionReason, Settle } from '../../src/domain/escrow';
import { paymentId, readMinor, type SettlementRecords } from './settlement-figures';

export type Answer =
  | { readonly status: 'APPLIED' | 'KEPT' }
  | { readonly status: 'REJECTED'; readonly reasons: readonly RejectionReason[] };

const applied: Answer = { status: 'APPLIED' };
const kept: Answer = { status: 'KEPT' };

export function answerOf(command: Settle, records: SettlementRecords): Answer {
  if (!records.orders.has(command.orderId)) return kept;
  const amount = readMinor(command.amount, command.currency);
  if (amount === null)
    throw new Error(`the generator made an unreadable amount: ${command.amount}`);
  const reasons =
    command.type === 'CHARGEBACK' || command.type === 'CHARGEBACK_REVERSED'
      ? chargebackRefusals(command, amount, records)
      : disbursementRefusals(command, amount, records);
  if (reasons === 'KEPT') return kept;
  return reasons.length === 0 ? applied : { status: 'REJECTED', reasons };
}

function chargebackRefusals(
  command: Settle,
  amount: bigint,
  records: SettlementRecords,
): RejectionReason[] | 'KEPT' {
  const key = paymentId(command.gateway, command.gatewayReference);
  const payment = records.payments.get(key);
  if (payment === undefined) return 'KEPT';
  const reasons: RejectionReason[] = [];
  if (payment.orderId !== command.orderId) reasons.push('SETTLEMENT_MISMATCH');
  const existing = records.chargebacks.get(key);
  if (command.type === 'CHARGEBACK') {
    // One chargeback per payment, at most the payment, in its currency.
    if (existing) reasons.push('INVALID_STATE');
    if (command.currency !== payment.currency || amount > payment.amount)
      reasons.push('SETTLEMENT_MISMATCH');
    return reasons;
  }
  // A reversal returns exactly the chargeback's amount, of one that stands.
  if (!existing || existing.reversed) reasons.push('INVALID_STATE');
  else if (command.currency !== existing.currency || amount !== existing.amount)
    reasons.push('SETTLEMENT_MISMATCH');
  return reasons;
}

function disbursementRefusals(
  command: Settle,
  amount: bigint,
  records: SettlementRecords,
): RejectionReason[] | 'KEPT' {
  const request = records.requests.get(command.outcomeId!);
  if (request === undefined) return 'KEPT';
  const reasons: RejectionReason[] = [];
  const kind = command.type.startsWith('PAYOUT') ? 'PAYOUT' : 'REFUND';
  if (request.orderId !== command.orderId || request.kind !== kind)
    reasons.push('SETTLEMENT_MISMATCH');
  if (request.state !== 'REQUESTED') reasons.push('INVALID_STATE');
  if (command.currency !== request.currency || amount !== request.amount)
    reasons.push('SETTLEMENT_MISMATCH');
  return reasons;
}
