/**
 * One payments row per gateway transaction (ADR-0003): what arrived, and what
 * became of it. PENDING_ORDER while kept (or unmatched); APPLIED when some of
 * it funded a milestone or the platform; REFUNDED when all of it went back.
 */
import type { ConfirmPayment, Decision } from '../domain/escrow';
import { MoneyError, parseAmount } from '../domain/money';

/** Columns a kept payment replayed when its order opens updates in the row it left. */
export const paymentMergeColumns = [
  'status',
  'applied_minor',
  'refunded_minor',
  'ledger_transaction_id',
  'applied_at',
] as const;

export type PaymentRow = NonNullable<ReturnType<typeof paymentRow>>;

/** The payments row a decision on a payment leaves; null when nothing arrived the ledger could hold. */
export function paymentRow(
  command: ConfirmPayment,
  decision: Decision,
  transactionIds: readonly string[],
  payloadHash: string,
  at: { confirmedAt: Date; now: Date },
) {
  let amount: bigint;
  try {
    amount = parseAmount(command.amount, command.currency).minor;
  } catch (error) {
    // Rejected for its amount or currency: nothing arrived that the ledger could hold.
    if (error instanceof MoneyError) return null;
    throw error;
  }
  const received = clearingTransaction(decision);
  const refunded = decision.transactions
    .filter((t) => t.kind === 'OVERPAYMENT_REFUND' || t.kind === 'CURRENCY_MISMATCH_REFUND')
    .reduce(
      (sum, t) =>
        sum + t.postings.find((p) => p.account.kind === 'BUYER_REFUND_PAYABLE')!.amount.minor,
      0n,
    );
  const status = received < 0 ? 'PENDING_ORDER' : refunded === amount ? 'REFUNDED' : 'APPLIED';
  const row = {
    gateway: command.gateway,
    gateway_reference: command.gatewayReference,
    event_id: command.eventId,
    order_id: command.orderId,
    milestone_id: command.milestoneId,
    kind: command.kind,
    currency: command.currency,
    amount_minor: amount.toString(),
    confirmed_at: at.confirmedAt,
    payload_hash: payloadHash,
    status,
    applied_minor: status === 'PENDING_ORDER' ? '0' : (amount - refunded).toString(),
    refunded_minor: status === 'PENDING_ORDER' ? '0' : refunded.toString(),
    ledger_transaction_id: received < 0 ? null : (transactionIds[received] ?? null),
    applied_at: status === 'PENDING_ORDER' ? null : at.now,
  };
  return row;
}

/** The index of the decision's first transaction that received the money (gateway clearing), or -1. */
const clearingTransaction = (decision: Decision): number =>
  decision.transactions.findIndex((transaction) =>
    transaction.postings.some((posting) => posting.account.kind === 'GATEWAY_CLEARING'),
  );

/**
 * The row the plan computed (before the ledger's ids were drawn) with the id
 * of the transaction that received the money: the same row paymentRow gives
 * with the ids, without deciding it again.
 */
export function withTransactionIds(
  row: PaymentRow,
  decision: Decision,
  transactionIds: readonly string[],
): PaymentRow {
  const received = clearingTransaction(decision);
  return received < 0 ? row : { ...row, ledger_transaction_id: transactionIds[received] ?? null };
}
