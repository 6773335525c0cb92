/**
 * Random sequences of every command, with duplicate deliveries, cross-topic
 * reorderings (payments and milestone events before their order), stale
 * versions and random amounts in currencies with 0, 2 and 3 decimals: after
 * every step, invariants 1–4 of DESIGN.md hold (EscrowSimulator checks them).
 */
import fc from 'fast-check';
import type { EscrowCommand, Milestone } from '../../../src/domain/escrow';
import { formatAmount, money } from '../../../src/domain/money';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { start } from './fixtures';

type Intent =
  | { kind: 'open' }
  | {
      kind: 'pay';
      milestone: number;
      minor: bigint;
      paymentKind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE';
      foreignCurrency: boolean;
    }
  | { kind: 'reached'; milestone: number; finalPercent: number | null }
  | { kind: 'refund'; milestone: number; percent: number; staleVersion: boolean }
  | { kind: 'cancelMilestone'; milestone: number }
  | { kind: 'cancelOrder' }
  | { kind: 'dispute'; milestone: number }
  | { kind: 'withdraw'; milestone: number }
  | { kind: 'resolve'; milestone: number; providerPercent: number }
  | { kind: 'advance'; seconds: number }
  | { kind: 'redeliver'; index: number };

const milestoneIndex = fc.integer({ min: 0, max: 3 }); // 3 is a milestone the order does not have
const intent: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'open' as const }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      milestone: milestoneIndex,
      minor: fc.bigInt({ min: 1n, max: 2_000_000n }),
      paymentKind: fc.constantFrom(
        'DEPOSIT' as const,
        'INSTALLMENT' as const,
        'FINAL' as const,
        'SERVICE_FEE' as const,
      ),
      foreignCurrency: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('reached' as const),
      milestone: milestoneIndex,
      finalPercent: fc.option(fc.integer({ min: 1, max: 150 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      milestone: milestoneIndex,
      percent: fc.integer({ min: 1, max: 120 }),
      staleVersion: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cancelMilestone' as const),
      milestone: milestoneIndex,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancelOrder' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('dispute' as const), milestone: milestoneIndex }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('withdraw' as const), milestone: milestoneIndex }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('resolve' as const),
      milestone: milestoneIndex,
      providerPercent: fc.integer({ min: 0, max: 100 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      seconds: fc.integer({ min: 1, max: 7200 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), index: fc.nat() }) },
);

const currencies = ['JPY', 'USD', 'KWD'] as const;

function scenario(currency: string, amounts: bigint[], intents: Intent[]): void {
  const sim = new EscrowSimulator(start);
  const orderId = 'order-p';
  const milestoneId = (index: number) => `m-${index}`;
  const amountText = (minor: bigint) => formatAmount(money(currency, minor));
  const current = (index: number): Milestone | undefined => sim.milestones.get(milestoneId(index));
  const percentOf = (minor: bigint, percent: number) => (minor * BigInt(percent)) / 100n;
  const delivered: EscrowCommand[] = [];
  let counter = 0;
  const eventId = () => `e-${++counter}`;
  const disputeId = (index: number) => `d-${index}`;

  const toCommand = (step: Intent): EscrowCommand | undefined => {
    switch (step.kind) {
      case 'open':
        return {
          type: 'ORDER_OPENED',
          eventId: eventId(),
          orderId,
          buyerId: 'b',
          providerId: 'p',
          currency,
          milestones: amounts.map((minor, index) => ({
            milestoneId: milestoneId(index),
            sequence: index,
            amount: amountText(minor),
            releaseCondition: index === 0 ? 'ANY' : 'DELIVERY_CONFIRMED',
            inspectionPeriodSeconds: index * 1800,
          })),
        };
      case 'pay':
        return {
          type: 'PAYMENT_CONFIRMED',
          eventId: eventId(),
          gateway: 'gw',
          gatewayReference: `ref-${counter}`,
          orderId,
          milestoneId: step.paymentKind === 'SERVICE_FEE' ? null : milestoneId(step.milestone),
          kind: step.paymentKind,
          amount: amountText(step.minor),
          currency: step.foreignCurrency ? 'EUR' : currency,
        };
      case 'reached': {
        const m = current(step.milestone);
        const finalAmount =
          step.finalPercent === null || m === undefined
            ? null
            : percentOf(m.amount.minor, step.finalPercent);
        return {
          type: 'MILESTONE_REACHED',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
          condition: 'DELIVERY_CONFIRMED',
          finalAmount: finalAmount === null || finalAmount === 0n ? null : amountText(finalAmount),
        };
      }
      case 'refund': {
        const m = current(step.milestone);
        const minor = m === undefined ? 1n : percentOf(m.held.minor, step.percent);
        return {
          type: 'REFUND_REQUESTED',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
          amount: amountText(minor === 0n ? 1n : minor),
          reason: 'REQUESTED',
          expectedVersion: m === undefined ? null : step.staleVersion ? m.version - 1 : m.version,
        };
      }
      case 'cancelMilestone':
        return {
          type: 'MILESTONE_CANCELLED',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
        };
      case 'cancelOrder':
        return { type: 'ORDER_CANCELLED', eventId: eventId(), orderId };
      case 'dispute':
        return {
          type: 'DISPUTE_OPENED',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
          disputeId: disputeId(step.milestone),
        };
      case 'withdraw':
        return {
          type: 'DISPUTE_WITHDRAWN',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
          disputeId: disputeId(step.milestone),
        };
      case 'resolve': {
        const disputed = current(step.milestone)?.disputed.minor ?? 0n;
        const provider = percentOf(disputed, step.providerPercent);
        return {
          type: 'DISPUTE_RESOLVED',
          eventId: eventId(),
          orderId,
          milestoneId: milestoneId(step.milestone),
          disputeId: disputeId(step.milestone),
          resolution: {
            providerAmount: amountText(provider),
            buyerAmount: amountText(disputed - provider),
          },
        };
      }
      case 'advance':
        sim.now = new Date(sim.now.getTime() + step.seconds * 1000);
        return undefined;
      case 'redeliver':
        return delivered.length === 0 ? undefined : delivered[step.index % delivered.length];
    }
  };

  for (const step of intents) {
    const next = toCommand(step);
    if (step.kind === 'advance') {
      // The timer: every milestone whose inspection deadline has passed.
      for (const m of sim.milestones.values()) {
        if (m.inspectionDeadline && m.inspectionDeadline <= sim.now) {
          sim.deliver({
            type: 'INSPECTION_ELAPSED',
            eventId: eventId(),
            orderId,
            milestoneId: m.milestoneId,
          });
        }
      }
    }
    if (next === undefined) continue;
    const snapshot = () => [...sim.balances].map(([code, minor]) => `${code}=${minor}`).join(',');
    const balancesBefore = snapshot();
    const result = sim.deliver(next);
    if (step.kind === 'redeliver') {
      expect(result).toBe('DUPLICATE');
      expect(snapshot()).toBe(balancesBefore);
    } else {
      delivered.push(next);
    }
    const broken = sim.brokenInvariants();
    if (broken.length > 0) throw new Error(`after ${next.type}: ${broken.join('; ')}`);
  }
}

test('any sequence of commands keeps invariants 1–4 after every step', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...currencies),
      fc.array(fc.bigInt({ min: 1n, max: 1_000_000n }), { minLength: 1, maxLength: 3 }),
      fc.array(intent, { maxLength: 60 }),
      (currency, amounts, intents) => scenario(currency, amounts, intents),
    ),
    { numRuns: 1500 },
  );
});
