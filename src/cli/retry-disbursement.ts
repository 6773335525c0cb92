/**
 * Asks again for one failed payout or refund, in one transaction: the
 * order's locks as a slice of the worker takes them (its advisory lock, then
 * the order's and milestones' rows: a settlement or a release of that order
 * waits, and the milestone's version read is current), the failed request's
 * row locked and read again (FOR UPDATE), then, if it is still FAILED, the
 * row marked RETRIED, the new request's row inserted and its outcome written
 * to the outbox — built by the pipeline's own functions (outboxRows,
 * disbursementRow), so the relay publishes it like any other outcome. No
 * ledger transaction: the money stayed payable when the request failed and
 * stays there until the new request is paid.
 *
 * Two operators retrying one request: the second waits on the row lock, then
 * reads RETRIED and is told which request replaced it. Should a writer get
 * past the locks anyway, disbursements_one_open refuses the second open
 * request (23505), which is reported the same way; nothing is written twice.
 */
import type { Knex } from 'knex';
import { type OutcomeDraft, outcomeTopics } from '../domain/escrow';
import { formatAmount, money } from '../domain/money';
import { insertOutbox, type OutboxRow, outboxRows } from '../pipeline/outbox';
import {
  type DisbursementKind,
  findRequest,
  insertRetry,
  lockRequest,
  markRetried,
  openRequestOf,
  type ReferenceSource,
  refundReferences,
  replacementOf,
  type StoredRequest,
} from '../store/disbursement-retries';
import { disbursementRow } from '../store/disbursements';
import { lockAndLoadOrders } from '../store/order-writes';
import { describeRefusal, type RefusalCode } from './retry-words';

export interface RetryOptions {
  readonly now: Date;
  readonly topicPrefix: string;
  /** Lock, read and check everything and build the request; write nothing. */
  readonly dryRun: boolean;
}

export type Refusal = {
  readonly status: 'refused';
  readonly outcomeId: string;
  readonly code: RefusalCode;
  readonly message: string;
};

export type RetryResult =
  | {
      readonly status: 'requested' | 'would request';
      readonly failed: StoredRequest;
      /** The new request's outbox row; its payload is the outcome as it is published. */
      readonly request: OutboxRow;
      /** Refunds: where the gateway references came from; null for payouts. */
      readonly referencesFrom: ReferenceSource | null;
    }
  | Refusal;

/** The causeEventId of a retried request: no inbound event asked for it, an operator did. */
export const retryCause = (failedOutcomeId: string) => `retry:${failedOutcomeId}`;

/** Thrown inside the transaction to end it (rolled back) with a refusal. */
class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

export async function retryRequest(
  db: Knex,
  kind: DisbursementKind,
  outcomeId: string,
  options: RetryOptions,
): Promise<RetryResult> {
  const refusal = (
    code: RefusalCode,
    request: StoredRequest | null,
    replacement: StoredRequest | null = null,
  ): Refusal => ({
    status: 'refused',
    outcomeId,
    code,
    message: describeRefusal({ kind, outcomeId, code, request, replacement }),
  });
  // Read without a lock to learn its order: the order's locks come before the row's, as in a slice.
  const seen = await findRequest(db, outcomeId);
  if (seen === null) return refusal('UNKNOWN_OUTCOME', null);
  if (seen.kind !== kind) return refusal('OTHER_KIND', seen);
  try {
    return await db.transaction(async (trx) => {
      const stored = await lockAndLoadOrders(trx, [seen.orderId]);
      const failed = (await lockRequest(trx, outcomeId))!;
      if (failed.state === 'RETRIED')
        throw new Refused(
          refusal('ALREADY_RETRIED', failed, await replacementOf(trx, failed.outcomeId)),
        );
      if (failed.state !== 'FAILED') throw new Refused(refusal('NOT_FAILED', failed));
      if (kind === 'REFUND' && failed.refundReason === null)
        throw new Refused(refusal('NO_REFUND_REASON', failed));
      const milestone = stored
        .get(failed.orderId)
        ?.milestones.find((candidate) => candidate.milestoneId === failed.milestoneId);
      const references = kind === 'REFUND' ? await refundReferences(trx, failed) : null;
      const request = newRequest(
        failed,
        milestone?.version ?? null,
        references?.references,
        options,
      );
      const result = {
        failed,
        request: request.outbox,
        referencesFrom: references?.source ?? null,
      };
      if (options.dryRun) return { status: 'would request' as const, ...result };
      // RETRIED first: the failed row leaves disbursements_one_open before its replacement enters.
      if (!(await markRetried(trx, failed.outcomeId)))
        throw new Error(`request ${failed.outcomeId} changed under its row lock`);
      await insertRetry(trx, request.disbursement);
      await insertOutbox(trx, [request.outbox]);
      return { status: 'requested' as const, ...result };
    });
  } catch (error) {
    if (error instanceof Refused) return error.refusal;
    if (!isOneOpenViolation(error)) throw error;
    return refusal('ALREADY_RETRIED', seen, await openRequestOf(db, seen.rootOutcomeId));
  }
}

/** The same money asked for again: a new outcomeId, the root kept, the failed one named. */
function newRequest(
  failed: StoredRequest,
  milestoneVersion: number | null,
  gatewayReferences: readonly string[] | undefined,
  options: RetryOptions,
) {
  const amount = (minor: string | null) =>
    formatAmount(money(failed.currency, BigInt(minor ?? '0')));
  const payout = failed.kind === 'PAYOUT';
  const draft: OutcomeDraft = {
    topic: payout ? outcomeTopics.payouts : outcomeTopics.refunds,
    type: payout ? 'PAYOUT_REQUESTED' : 'REFUND_REQUESTED',
    orderId: failed.orderId,
    milestoneId: failed.milestoneId,
    milestoneVersion,
    // The original's ledger transaction: the one that made the money payable.
    transactionIndex: failed.ledgerTransactionId === null ? null : 0,
    fields: payout
      ? {
          providerId: failed.partyId,
          currency: failed.currency,
          grossAmount: amount(failed.grossMinor),
          feeAmount: amount(failed.feeMinor),
          netAmount: amount(failed.amountMinor),
          recoveredAmount: amount(failed.recoveredMinor),
        }
      : {
          buyerId: failed.partyId,
          currency: failed.currency,
          amount: amount(failed.amountMinor),
          reason: failed.refundReason,
          gatewayReferences: [...(gatewayReferences ?? [])],
        },
  };
  const [outbox] = outboxRows([draft], {
    eventId: retryCause(failed.outcomeId),
    transactionIds: failed.ledgerTransactionId === null ? [] : [failed.ledgerTransactionId],
    now: options.now,
    topicPrefix: options.topicPrefix,
  });
  const row = disbursementRow(outbox!, options.now)!;
  return {
    outbox: outbox!,
    disbursement: { ...row, root_outcome_id: failed.rootOutcomeId, retry_of: failed.outcomeId },
  };
}

/** SQLSTATE 23505 on the one-open-request index: another open request for this money exists. */
function isOneOpenViolation(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && constraint === 'disbursements_one_open';
}
