/** Commands as upstream services and gateway adapters send them, with sensible defaults. */
import type {
  ConfirmPayment,
  Decision,
  EscrowCommand,
  MilestonePlan,
  OpenOrder,
} from '../../../src/domain/escrow';
import { EscrowSimulator } from '../../support/escrow-simulator';

let sequence = 0;
const nextId = (prefix: string) => `${prefix}-${++sequence}`;

export const start = new Date('2026-03-01T10:00:00.000Z');

export function openOrder(
  milestones: Partial<MilestonePlan>[] = [{}],
  overrides: Partial<OpenOrder> = {},
): OpenOrder {
  return {
    type: 'ORDER_OPENED',
    eventId: nextId('open'),
    orderId: 'order-1',
    buyerId: 'buyer-1',
    providerId: 'provider-1',
    currency: 'USD',
    milestones: milestones.map((plan, index) => ({
      milestoneId: `m-${index + 1}`,
      sequence: index + 1,
      amount: '1000.00',
      releaseCondition: 'DELIVERY_CONFIRMED',
      inspectionPeriodSeconds: 0,
      ...plan,
    })),
    ...overrides,
  };
}

export function payment(amount: string, overrides: Partial<ConfirmPayment> = {}): ConfirmPayment {
  return {
    type: 'PAYMENT_CONFIRMED',
    eventId: nextId('pay'),
    gateway: 'stripe',
    gatewayReference: nextId('ch'),
    orderId: 'order-1',
    milestoneId: 'm-1',
    kind: 'DEPOSIT',
    amount,
    currency: 'USD',
    ...overrides,
  };
}

type WithoutEventId<T> = T extends unknown ? Omit<T, 'eventId'> : never;

/** Any other command, given without an eventId. */
export function command(fields: WithoutEventId<EscrowCommand>): EscrowCommand {
  return { ...fields, eventId: nextId('evt') };
}

export function simulator(): EscrowSimulator {
  return new EscrowSimulator(start);
}

export function decided(result: Decision | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT'): Decision {
  if (typeof result === 'string') throw new Error(`expected a decision, got ${result}`);
  return result;
}

export const outcomeTypes = (decision: Decision) => decision.outcomes.map((o) => o.type);
