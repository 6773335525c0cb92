/**
 * Random sequences of every command, with duplicate deliveries, cross-topic
 * reorderings (payments and milestone events before their order), stale
 * versions, random fee policies (rate, minimum, volume tiers, dispute fee) and
 * random amounts in currencies with 0, 2 and 3 decimals. After every decision,
 * the timer's included: invariants 1–4 of DESIGN.md hold (EscrowSimulator
 * checks them), a stale version is answered CONFLICT, and every payout's fee
 * is what an independent model of the fee rules computes. Across the runs,
 * enough sequences fund, release, refund, dispute and resolve, so a domain
 * that rejects everything fails.
 */
import fc from 'fast-check';
import {
  type Decision,
  type EscrowCommand,
  type Milestone,
  stillNeeded,
} from '../../../src/domain/escrow';
import { defaultFeePolicy, type FeePolicy, policyProblems } from '../../../src/domain/fees';
import { currencyDigits, formatAmount, money, parseAmount } from '../../../src/domain/money';
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
  | { kind: 'payRest'; milestone: number }
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
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('payRest' as const), milestone: milestoneIndex }),
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

/** Random fee policies: a base rate, maybe a minimum, maybe volume tiers, maybe a dispute fee. */
const policy = (currency: string): fc.Arbitrary<FeePolicy> =>
  fc
    .record({
      rate: fc.constantFrom('0', '0.05', '0.1', '0.125', '0.333'),
      minimum: fc.option(fc.constantFrom('1', '5', '25')),
      tiers: fc.array(
        fc.record({
          minVolume: fc.constantFrom('10', '1000', '5000'),
          rate: fc.constantFrom('0.01', '0.02', '0.08'),
        }),
        { maxLength: 2 },
      ),
      disputeFee: fc.option(fc.constantFrom('1', '3')),
    })
    .map(({ rate, minimum, tiers, disputeFee }) => ({
      ...defaultFeePolicy(rate),
      minimumFees: minimum === null ? {} : { [currency]: minimum },
      volumeTiers: tiers.filter(
        (tier, index) => tiers.findIndex((other) => other.minVolume === tier.minVolume) === index,
      ),
      disputeFees: disputeFee === null ? {} : { [currency]: disputeFee },
    }))
    .filter((candidate) => policyProblems(candidate).length === 0);

/** "0.125" as 125/1000, exactly. */
function fraction(rate: string): [bigint, bigint] {
  const [whole = '0', part = ''] = rate.split('.');
  return [BigInt(whole + part), 10n ** BigInt(part.length)];
}

/**
 * The fee on a release as CONTRACT.md states it, written here independently of
 * the domain: the rate of the highest tier the provider's earlier released gross
 * reaches (else the base rate), gross × rate half-up, raised to the minimum for
 * the currency but never above the gross.
 */
function modelReleaseFee(fees: FeePolicy, gross: bigint, earlierVolume: bigint, currency: string) {
  const unit = 10n ** BigInt(currencyDigits(currency));
  let rate = fees.rate;
  let reached = -1n;
  for (const tier of fees.volumeTiers) {
    const threshold = BigInt(tier.minVolume) * unit;
    if (threshold <= earlierVolume && threshold > reached) {
      reached = threshold;
      rate = tier.rate;
    }
  }
  const [numerator, denominator] = fraction(rate);
  const product = gross * numerator;
  let fee = product / denominator + (2n * (product % denominator) >= denominator ? 1n : 0n);
  const minimumText = fees.minimumFees[currency];
  if (gross > 0n && minimumText !== undefined) {
    const minimum = parseAmount(minimumText, currency).minor;
    if (fee < minimum) fee = minimum < gross ? minimum : gross;
  }
  return fee;
}

/** What a run covered, counted over all runs. */
const covered = {
  runs: 0,
  funded: 0,
  released: 0,
  refunded: 0,
  disputed: 0,
  resolved: 0,
  conflicts: 0,
  timerReleases: 0,
  mismatches: 0,
  pendingSplits: 0,
};

function scenario(currency: string, fees: FeePolicy, amounts: bigint[], intents: Intent[]): void {
  const sim = new EscrowSimulator(start, fees);
  const orderId = 'order-p';
  const milestoneId = (index: number) => `m-${index}`;
  const amountText = (minor: bigint) => formatAmount(money(currency, minor));
  const current = (index: number): Milestone | undefined => sim.milestones.get(milestoneId(index));
  const percentOf = (minor: bigint, percent: number) => (minor * BigInt(percent)) / 100n;
  const delivered: EscrowCommand[] = [];
  let counter = 0;
  const eventId = () => `e-${++counter}`;
  const disputeId = (index: number) => `d-${index}`;

  const payment = (
    milestone: string | null,
    kind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE',
    minor: bigint,
    paidIn: string,
  ): EscrowCommand => ({
    type: 'PAYMENT_CONFIRMED',
    eventId: eventId(),
    gateway: 'gw',
    gatewayReference: `ref-${counter}`,
    orderId,
    milestoneId: milestone,
    kind,
    amount: amountText(minor),
    currency: paidIn,
  });

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
        return payment(
          step.paymentKind === 'SERVICE_FEE' ? null : milestoneId(step.milestone),
          step.paymentKind,
          step.minor,
          step.foreignCurrency ? 'EUR' : currency,
        );
      case 'payRest': {
        // What the milestone still needs (its whole amount when the order is not open yet).
        const m = current(step.milestone);
        const rest = m === undefined ? (amounts[step.milestone] ?? 1n) : stillNeeded(m).minor;
        return payment(milestoneId(step.milestone), 'DEPOSIT', rest > 0n ? rest : 1n, currency);
      }
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

  const kinds = new Set<string>();
  let releasedVolume = 0n;
  /** Every decision, the timer's too: invariants, and each payout against the fee model. */
  const inspect = (command: EscrowCommand, decision: Decision) => {
    for (const transaction of decision.transactions) kinds.add(transaction.kind);
    // Refunds against what was asked: a refund request's amount and reason, a payment
    // in another currency refunded whole.
    const refunds = decision.outcomes
      .filter((outcome) => outcome.type === 'REFUND_REQUESTED')
      .map((outcome) => {
        const fields = outcome.fields as Record<string, string>;
        return { amount: fields.amount, currency: fields.currency, reason: fields.reason };
      });
    if (command.type === 'REFUND_REQUESTED' && decision.status === 'APPLIED') {
      expect(refunds).toEqual([
        {
          amount: formatAmount(parseAmount(command.amount, currency)),
          currency,
          reason: 'REQUESTED',
        },
      ]);
    }
    if (command.type === 'PAYMENT_CONFIRMED' && decision.reason === 'CURRENCY_MISMATCH') {
      expect(refunds).toEqual([
        {
          amount: formatAmount(parseAmount(command.amount, command.currency)),
          currency: command.currency,
          reason: 'CURRENCY_MISMATCH',
        },
      ]);
      covered.mismatches += 1;
    }
    for (const outcome of decision.outcomes) {
      if (outcome.type !== 'PAYOUT_REQUESTED') continue;
      const fields = outcome.fields as Record<string, string>;
      const gross = parseAmount(fields.grossAmount!, currency, { allowZero: true }).minor;
      const fee = parseAmount(fields.feeAmount!, currency, { allowZero: true }).minor;
      const net = parseAmount(fields.netAmount!, currency, { allowZero: true }).minor;
      expect({ gross, sum: fee + net }).toEqual({ gross, sum: gross });
      if (command.type !== 'DISPUTE_RESOLVED') {
        expect({ gross, fee }).toEqual({
          gross,
          fee: modelReleaseFee(fees, gross, releasedVolume, currency),
        });
      }
    }
    // A refund publishes the split a release at that moment would make, by the fee model.
    for (const outcome of decision.outcomes) {
      if (outcome.type !== 'FUNDS_REFUNDED') continue;
      const fields = outcome.fields as Record<string, string>;
      const minor = (text: string) => parseAmount(text, currency, { allowZero: true }).minor;
      const releasable =
        minor(fields.held!) < minor(fields.amount!) ? fields.held! : fields.amount!;
      const fee = modelReleaseFee(fees, minor(releasable), releasedVolume, currency);
      expect({
        pendingFee: minor(fields.pendingFee!),
        pendingEarnings: minor(fields.pendingEarnings!),
      }).toEqual({ pendingFee: fee, pendingEarnings: minor(releasable) - fee });
      covered.pendingSplits += 1;
    }
    for (const transaction of decision.transactions) {
      if (transaction.release) releasedVolume += transaction.release.gross.minor;
    }
    const broken = sim.brokenInvariants();
    if (broken.length > 0) throw new Error(`after ${command.type}: ${broken.join('; ')}`);
  };
  const deliverAndInspect = (command: EscrowCommand) => {
    const before = sim.decisions.length;
    const result = sim.deliver(command);
    // The command's decision and those of the kept events it replayed, each with its own command.
    sim.decisions.slice(before).forEach((decision, index) => {
      inspect(sim.decided[before + index]!, decision);
    });
    return result;
  };

  for (const step of intents) {
    const next = toCommand(step);
    if (step.kind === 'advance') {
      // The timer: every milestone whose inspection deadline has passed.
      for (const m of [...sim.milestones.values()]) {
        if (m.inspectionDeadline && m.inspectionDeadline <= sim.now) {
          // Released by the timer when the contract says so: reached, not disputed,
          // holding its whole amount, and its inspection period over.
          const due =
            m.reached &&
            m.disputeId === null &&
            m.amount.minor > 0n &&
            m.held.minor >= m.amount.minor;
          deliverAndInspect({
            type: 'INSPECTION_ELAPSED',
            eventId: eventId(),
            orderId,
            milestoneId: m.milestoneId,
          });
          if (due) {
            expect({
              milestone: m.milestoneId,
              state: current(Number(m.milestoneId.slice(2)))?.state,
            }).toEqual({ milestone: m.milestoneId, state: 'RELEASED' });
            covered.timerReleases += 1;
          }
        }
      }
    }
    if (next === undefined) continue;
    const snapshot = () => [...sim.balances].map(([code, minor]) => `${code}=${minor}`).join(',');
    const balancesBefore = snapshot();
    const staleBefore =
      step.kind === 'refund' && step.staleVersion ? current(step.milestone) : undefined;
    const result = deliverAndInspect(next);
    if (step.kind === 'redeliver') {
      expect(result).toBe('DUPLICATE');
      expect(snapshot()).toBe(balancesBefore);
    } else {
      delivered.push(next);
    }
    // A command naming a version the milestone has left is refused, and changes nothing.
    if (staleBefore !== undefined && sim.order !== null && typeof result !== 'string') {
      expect({ status: result.status, reason: result.reason }).toEqual({
        status: 'REJECTED',
        reason: 'CONFLICT',
      });
      expect(snapshot()).toBe(balancesBefore);
      covered.conflicts += 1;
    }
  }
  covered.runs += 1;
  if (kinds.has('FUNDING')) covered.funded += 1;
  if (kinds.has('RELEASE')) covered.released += 1;
  if (kinds.has('REFUND') || kinds.has('OVERPAYMENT_REFUND')) covered.refunded += 1;
  if (kinds.has('DISPUTE_FREEZE')) covered.disputed += 1;
  if (kinds.has('DISPUTE_RESOLUTION')) covered.resolved += 1;
}

test('any sequence of commands keeps invariants 1–4 after every decision, and pays the modelled fees', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...currencies).chain((currency) =>
        fc.tuple(
          fc.constant(currency),
          policy(currency),
          fc.array(fc.bigInt({ min: 1n, max: 1_000_000n }), { minLength: 3, maxLength: 3 }),
          // Most sequences open their order early (kept events still arrive first).
          fc
            .boolean()
            .chain((openEarly) =>
              fc
                .array(intent, { minLength: 5, maxLength: 60, size: 'max' })
                .map((rest) =>
                  openEarly ? [rest[0]!, { kind: 'open' as const }, ...rest.slice(1)] : rest,
                ),
            ),
        ),
      ),
      ([currency, fees, amounts, intents]) => scenario(currency, fees, amounts, intents),
    ),
    { numRuns: 1500 },
  );
  // Enough of the runs took each path; a domain that refuses everything does not.
  const share = (count: number) => count / covered.runs;
  expect(share(covered.funded)).toBeGreaterThan(0.5);
  expect(share(covered.released)).toBeGreaterThan(0.1);
  expect(share(covered.refunded)).toBeGreaterThan(0.5);
  expect(share(covered.disputed)).toBeGreaterThan(0.1);
  expect(share(covered.resolved)).toBeGreaterThan(0.03);
  expect(covered.conflicts).toBeGreaterThan(200);
  expect(covered.timerReleases).toBeGreaterThan(20);
  expect(covered.mismatches).toBeGreaterThan(20);
  expect(covered.pendingSplits).toBeGreaterThan(200);
});
