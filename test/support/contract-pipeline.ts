/**
 * The contract-rule tests' way into the one path: each event goes through
 * applyEvent under the real Redlock lock on its order, its transient failures
 * retried (as the consumer takes and retries it: a release racing another
 * order's release of the same provider on one receivable is decided again),
 * against the file's own database, on a clock the test moves. Beside it,
 * readers of what a rule is about, all amounts as minor-unit strings: the
 * milestone as stored, the order's ledger transactions with their entries by
 * account code, and the outbox rows an event added.
 */
import { Counter, Histogram } from 'prom-client';
import type { EscrowCommand, MilestonePlan, Settle } from '../../src/domain/escrow';
import { lockOrders } from '../../src/locks/order-lock';
import { createLockService, type LockService } from '../../src/locks/redlock';
import { createLogger } from '../../src/logging/logger';
import { applyEvent } from '../../src/pipeline/apply-event';
import { MESSAGE_RETRY, withRetry } from '../../src/pipeline/retry';
import type { EventResult, PipelineSettings } from '../../src/pipeline/events';
import type { TestContext } from './test-context';

export interface ContractPipeline {
  /** The clock every decision reads; tests move it. */
  now: Date;
  settings(): PipelineSettings;
  deliver(command: EscrowCommand): Promise<EventResult>;
}

export function useContractPipeline(ctx: TestContext, start: Date): ContractPipeline {
  let locks: LockService | undefined;
  let offset = 0;
  const log = createLogger({ LOG_LEVEL: 'silent' });
  // The lock's own metrics, registered nowhere: the worker's registry is not running here.
  const metrics = {
    lockWaitSeconds: new Histogram({ name: 'test_lock_wait_seconds', help: '-', registers: [] }),
    lockFailures: new Counter({
      name: 'test_lock_failures_total',
      help: '-',
      labelNames: ['reason'],
      registers: [],
    }),
  };
  ctx.beforeTeardown(async () => {
    await locks?.close();
  });
  const pipeline: ContractPipeline = {
    now: start,
    settings: () => ({
      topicPrefix: ctx.config.TOPIC_PREFIX,
      defaultFeeRate: ctx.config.PLATFORM_FEE_RATE,
      now: () => pipeline.now,
    }),
    async deliver(command) {
      locks ??= createLockService(ctx.config);
      const lock = await lockOrders({ locks, metrics, topicPrefix: ctx.config.TOPIC_PREFIX, log }, [
        command.orderId,
      ]);
      try {
        const event = {
          topic: 'escrow.contract-test',
          partition: 0,
          offset: String(++offset),
          occurredAt: pipeline.now,
          command,
        };
        return await withRetry(() => applyEvent(ctx.db, pipeline.settings(), event), MESSAGE_RETRY);
      } finally {
        await lock?.release().catch(() => undefined);
      }
    },
  };
  return pipeline;
}

// ---- commands, shaped as the consumers hand them to the domain ----

export const milestone = (
  milestoneId: string,
  amount: string,
  inspectionPeriodSeconds = 0,
): MilestonePlan => ({
  milestoneId,
  sequence: Number(milestoneId.replace(/\D/g, '')) || 1,
  amount,
  releaseCondition: 'DELIVERY_CONFIRMED',
  inspectionPeriodSeconds,
});

export const openOrder = (
  orderId: string,
  milestones: readonly MilestonePlan[],
  options: { currency?: string; providerId?: string; eventId?: string } = {},
): EscrowCommand => ({
  type: 'ORDER_OPENED',
  eventId: options.eventId ?? `open-${orderId}`,
  orderId,
  buyerId: `buyer-${orderId}`,
  providerId: options.providerId ?? `provider-${orderId}`,
  currency: options.currency ?? 'USD',
  milestones,
});

export const payment = (
  orderId: string,
  milestoneId: string | null,
  amount: string,
  reference: string,
  options: {
    kind?: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE';
    currency?: string;
    eventId?: string;
  } = {},
): EscrowCommand => ({
  type: 'PAYMENT_CONFIRMED',
  eventId: options.eventId ?? `pay-${reference}`,
  gateway: 'stripe',
  gatewayReference: reference,
  orderId,
  milestoneId,
  kind: options.kind ?? 'DEPOSIT',
  amount,
  currency: options.currency ?? 'USD',
});

export const reached = (
  orderId: string,
  milestoneId: string,
  options: { eventId?: string; expectedVersion?: number; finalAmount?: string } = {},
): EscrowCommand => ({
  type: 'MILESTONE_REACHED',
  eventId: options.eventId ?? `reached-${orderId}-${milestoneId}`,
  orderId,
  milestoneId,
  condition: 'DELIVERY_CONFIRMED',
  finalAmount: options.finalAmount ?? null,
  expectedVersion: options.expectedVersion ?? null,
});

export const refund = (
  orderId: string,
  milestoneId: string,
  amount: string,
  options: { eventId?: string; expectedVersion?: number; reason?: string } = {},
): EscrowCommand => ({
  type: 'REFUND_REQUESTED',
  eventId: options.eventId ?? `refund-${orderId}-${milestoneId}-${amount}`,
  orderId,
  milestoneId,
  amount,
  reason: options.reason ?? 'work half done',
  expectedVersion: options.expectedVersion ?? null,
});

export const cancelMilestone = (
  orderId: string,
  milestoneId: string,
  options: { eventId?: string; expectedVersion?: number } = {},
): EscrowCommand => ({
  type: 'MILESTONE_CANCELLED',
  eventId: options.eventId ?? `cancel-${orderId}-${milestoneId}`,
  orderId,
  milestoneId,
  expectedVersion: options.expectedVersion ?? null,
});

export const cancelOrder = (orderId: string, eventId = `cancel-${orderId}`): EscrowCommand => ({
  type: 'ORDER_CANCELLED',
  eventId,
  orderId,
});

type DisputeStep = 'DISPUTE_OPENED' | 'DISPUTE_WITHDRAWN';

export const dispute = (
  step: DisputeStep,
  orderId: string,
  milestoneId: string,
  options: { disputeId?: string; eventId?: string; expectedVersion?: number } = {},
): EscrowCommand => {
  const disputeId = options.disputeId ?? `d-${orderId}`;
  return {
    type: step,
    eventId: options.eventId ?? `${step}-${orderId}-${milestoneId}-${disputeId}`,
    orderId,
    milestoneId,
    disputeId,
    expectedVersion: options.expectedVersion ?? null,
  };
};

export const resolveDispute = (
  orderId: string,
  milestoneId: string,
  providerAmount: string,
  buyerAmount: string,
  options: { disputeId?: string; eventId?: string; expectedVersion?: number } = {},
): EscrowCommand => {
  const disputeId = options.disputeId ?? `d-${orderId}`;
  return {
    type: 'DISPUTE_RESOLVED',
    eventId:
      options.eventId ?? `resolve-${orderId}-${milestoneId}-${providerAmount}-${buyerAmount}`,
    orderId,
    milestoneId,
    disputeId,
    resolution: { providerAmount, buyerAmount },
    expectedVersion: options.expectedVersion ?? null,
  };
};

/**
 * A settlement (escrow.settlements.v1) as the consumer hands it to the domain:
 * through stripe, for milestone m-1, with no reason, unless `fields` say
 * otherwise. Its eventId names the type, the reference and the outcome.
 */
export const settlement = (
  type: Settle['type'],
  orderId: string,
  fields: Partial<Settle> & Pick<Settle, 'gatewayReference' | 'amount'>,
): Settle => ({
  type,
  eventId: `${type}-${fields.gatewayReference}-${fields.outcomeId ?? ''}`,
  orderId,
  milestoneId: 'm-1',
  outcomeId: null,
  gateway: 'stripe',
  currency: 'USD',
  reason: null,
  ...fields,
});
