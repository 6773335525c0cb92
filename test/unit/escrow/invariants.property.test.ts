/**
 * Random sequences of every command over up to three orders of one provider,
 * with duplicate deliveries (a retrying gateway's new eventId among them),
 * reused keys with another substance, cross-topic reorderings (payments,
 * milestone events and chargebacks before what they name), stale versions,
 * random fee policies (rate, minimum, volume tiers, dispute fee) and random
 * amounts in currencies with 0, 2 and 3 decimals; and the money loop after
 * escrow: payouts and refunds paid, failed (for the right amount, sometimes a
 * wrong one, sometimes a second time), retried by an operator, payments
 * charged back before release, while disputed and after release, and
 * chargebacks reversed. After every decision, the timer's and each replayed
 * kept event's included: invariants 1–4 of DESIGN.md hold (EscrowSimulator
 * checks them), a stale version is answered CONFLICT, every payout's and
 * dispute's fee is what an independent model of the fee rules computes, and
 * an independent model of the money loop (test/support/settlement-*.ts) says
 * what each settlement must be answered, where each chargeback's money comes
 * from, what each release recovers, and what every account must hold.
 * Across the runs, enough sequences fund, release, refund, dispute, resolve,
 * pay out, fail, retry, charge back, net a receivable and reverse, so a
 * domain that rejects everything fails.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  type ConfirmPayment,
  type Decision,
  type EscrowCommand,
  isSettlement,
  type Milestone,
  stillNeeded,
} from '../../../src/domain/escrow';
import { defaultFeePolicy, type FeePolicy, policyProblems } from '../../../src/domain/fees';
import { currencyDigits, formatAmount, money, parseAmount } from '../../../src/domain/money';
import { type BookedDecision, EscrowSimulator } from '../../support/escrow-simulator';
import { brokenBalances } from '../../support/settlement-balances';
import {
  SettlementCommands,
  type SettlementIntent,
  settlementIntent,
} from '../../support/settlement-intents';
import { SettlementModel } from '../../support/settlement-model';
import { start } from './fixtures';

type Intent =
  | { kind: 'open'; order: number }
  | {
      kind: 'pay';
      order: number;
      milestone: number;
      minor: bigint;
      paymentKind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE';
      foreignCurrency: boolean;
    }
  | { kind: 'payRest'; order: number; milestone: number }
  | { kind: 'complete'; order: number; milestone: number }
  | { kind: 'reached'; order: number; milestone: number; finalPercent: number | null }
  | { kind: 'refund'; order: number; milestone: number; percent: number; staleVersion: boolean }
  | { kind: 'cancelMilestone'; order: number; milestone: number }
  | { kind: 'cancelOrder'; order: number }
  | { kind: 'dispute'; order: number; milestone: number }
  | { kind: 'withdraw'; order: number; milestone: number }
  | { kind: 'resolve'; order: number; milestone: number; providerPercent: number }
  | { kind: 'advance'; seconds: number }
  | { kind: 'redeliver'; index: number; variant: 'same' | 'freshEventId' | 'altered' }
  | SettlementIntent;

const orderIndex = fc.nat({ max: 2 }); // taken modulo the run's number of orders
// Mostly the first milestone (no inspection period: released when reached and funded);
// 3 is a milestone no order has.
const milestoneIndex = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
);
const onMilestone = <T extends string>(kind: T) => ({
  kind: fc.constant(kind),
  order: orderIndex,
  milestone: milestoneIndex,
});
const intent: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), order: orderIndex }) },
  {
    weight: 6,
    arbitrary: fc.record({
      ...onMilestone('pay' as const),
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
  { weight: 5, arbitrary: fc.record(onMilestone('payRest' as const)) },
  // Funded in full and reached, one after the other: the common way to a release.
  { weight: 4, arbitrary: fc.record(onMilestone('complete' as const)) },
  {
    weight: 4,
    arbitrary: fc.record({
      ...onMilestone('reached' as const),
      finalPercent: fc.option(fc.integer({ min: 1, max: 150 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      ...onMilestone('refund' as const),
      percent: fc.integer({ min: 1, max: 120 }),
      staleVersion: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record(onMilestone('cancelMilestone' as const)) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cancelOrder' as const), order: orderIndex }),
  },
  { weight: 3, arbitrary: fc.record(onMilestone('dispute' as const)) },
  { weight: 1, arbitrary: fc.record(onMilestone('withdraw' as const)) },
  {
    weight: 3,
    arbitrary: fc.record({
      ...onMilestone('resolve' as const),
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
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('redeliver' as const),
      index: fc.nat(),
      variant: fc.constantFrom('same' as const, 'freshEventId' as const, 'altered' as const),
    }),
  },
  { weight: 17, arbitrary: settlementIntent(orderIndex, milestoneIndex) },
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

/**
 * The fee on a resolved dispute's provider part, by the same rules: the release
 * fee, plus the policy's dispute fee cut to what the release fee leaves.
 */
function modelDisputeFee(fees: FeePolicy, gross: bigint, earlierVolume: bigint, currency: string) {
  const release = modelReleaseFee(fees, gross, earlierVolume, currency);
  const text = fees.disputeFees[currency];
  const disputeFee = text === undefined ? 0n : parseAmount(text, currency).minor;
  return release + (disputeFee < gross - release ? disputeFee : gross - release);
}

/** What a run covered, counted over all runs; `money` counts runs per money-loop path. */
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
  duplicates: 0,
  idempotencyConflicts: 0,
  money: new Map<string, number>(),
};

interface Run {
  readonly currency: string;
  readonly fees: FeePolicy;
  /** Per order, its milestones' amounts. */
  readonly amounts: readonly (readonly bigint[])[];
  readonly intents: readonly Intent[];
}

function scenario({ currency, fees, amounts, intents }: Run): void {
  const sim = new EscrowSimulator(start, fees);
  const model = new SettlementModel();
  const orders = amounts.length;
  const orderId = (order: number) => `order-${order % orders}`;
  const milestoneId = (order: number, index: number) => `o${order % orders}-m-${index}`;
  const amountText = (minor: bigint, inCurrency = currency) =>
    formatAmount(money(inCurrency, minor));
  const current = (order: number, index: number): Milestone | undefined =>
    sim.milestones.get(milestoneId(order, index));
  const percentOf = (minor: bigint, percent: number) => (minor * BigInt(percent)) / 100n;
  const delivered: EscrowCommand[] = [];
  const payments: ConfirmPayment[] = [];
  let counter = 0;
  const eventId = () => `e-${++counter}`;
  const settlements = new SettlementCommands(model, eventId);
  const disputeId = (order: number, index: number) => `d-${milestoneId(order, index)}`;

  const payment = (
    order: number,
    milestone: string | null,
    kind: 'DEPOSIT' | 'INSTALLMENT' | 'FINAL' | 'SERVICE_FEE',
    minor: bigint,
    paidIn: string,
  ): ConfirmPayment => ({
    type: 'PAYMENT_CONFIRMED',
    eventId: eventId(),
    gateway: 'gw',
    gatewayReference: `ref-${counter}`,
    orderId: orderId(order),
    milestoneId: milestone,
    kind,
    amount: amountText(minor, paidIn),
    currency: paidIn,
  });
  /** What the milestone still needs (its whole amount when the order is not open yet). */
  const payRest = (order: number, index: number) => {
    const m = current(order, index);
    const rest = m === undefined ? (amounts[order % orders]![index] ?? 1n) : stillNeeded(m).minor;
    return payment(order, milestoneId(order, index), 'DEPOSIT', rest > 0n ? rest : 1n, currency);
  };

  const toCommands = (step: Intent): EscrowCommand[] => {
    const on = 'milestone' in step && 'order' in step ? step : { order: 0, milestone: 0 };
    const ids = { orderId: orderId(on.order), milestoneId: milestoneId(on.order, on.milestone) };
    const m = current(on.order, on.milestone);
    switch (step.kind) {
      case 'open':
        return [
          {
            type: 'ORDER_OPENED',
            eventId: eventId(),
            orderId: orderId(step.order),
            buyerId: 'b',
            providerId: 'p',
            currency,
            milestones: amounts[step.order % orders]!.map((minor, index) => ({
              milestoneId: milestoneId(step.order, index),
              sequence: index,
              amount: amountText(minor),
              releaseCondition: index === 0 ? 'ANY' : 'DELIVERY_CONFIRMED',
              inspectionPeriodSeconds: index * 1800,
            })),
          },
        ];
      case 'pay':
        return [
          payment(
            step.order,
            step.paymentKind === 'SERVICE_FEE' ? null : ids.milestoneId,
            step.paymentKind,
            step.minor,
            step.foreignCurrency ? 'EUR' : currency,
          ),
        ];
      case 'payRest':
        return [payRest(step.order, step.milestone)];
      case 'complete':
        return [
          payRest(step.order, step.milestone),
          {
            type: 'MILESTONE_REACHED',
            eventId: eventId(),
            ...ids,
            condition: 'DELIVERY_CONFIRMED',
          },
        ];
      case 'reached': {
        const finalAmount =
          step.finalPercent === null || m === undefined
            ? null
            : percentOf(m.amount.minor, step.finalPercent);
        return [
          {
            type: 'MILESTONE_REACHED',
            eventId: eventId(),
            ...ids,
            condition: 'DELIVERY_CONFIRMED',
            finalAmount:
              finalAmount === null || finalAmount === 0n ? null : amountText(finalAmount),
          },
        ];
      }
      case 'refund': {
        const minor = m === undefined ? 1n : percentOf(m.held.minor, step.percent);
        return [
          {
            type: 'REFUND_REQUESTED',
            eventId: eventId(),
            ...ids,
            amount: amountText(minor === 0n ? 1n : minor),
            reason: 'REQUESTED',
            expectedVersion: m === undefined ? null : step.staleVersion ? m.version - 1 : m.version,
          },
        ];
      }
      case 'cancelMilestone':
        return [{ type: 'MILESTONE_CANCELLED', eventId: eventId(), ...ids }];
      case 'cancelOrder':
        return [{ type: 'ORDER_CANCELLED', eventId: eventId(), orderId: orderId(step.order) }];
      case 'dispute':
      case 'withdraw':
        return [
          {
            type: step.kind === 'dispute' ? 'DISPUTE_OPENED' : 'DISPUTE_WITHDRAWN',
            eventId: eventId(),
            ...ids,
            disputeId: disputeId(step.order, step.milestone),
          },
        ];
      case 'resolve': {
        const disputed = m?.disputed.minor ?? 0n;
        const provider = percentOf(disputed, step.providerPercent);
        return [
          {
            type: 'DISPUTE_RESOLVED',
            eventId: eventId(),
            ...ids,
            disputeId: disputeId(step.order, step.milestone),
            resolution: {
              providerAmount: amountText(provider),
              buyerAmount: amountText(disputed - provider),
            },
          },
        ];
      }
      case 'settle':
        return present(settlements.settle(step));
      case 'chargeback':
        return present(settlements.chargeback(step, payments));
      case 'chargebackFirst': {
        // The settlement overtakes its payment (another topic): kept, applied after it.
        const paid = payRest(step.order, step.milestone);
        return [settlements.chargebackOf(paid, step.percent), paid];
      }
      case 'reverse':
        return present(settlements.reverse(step, payments));
      case 'advance':
      case 'retry':
      case 'redeliver':
        return [];
    }
  };
  const kinds = new Set<string>();
  let releasedVolume = 0n;
  /** Every decision, the timer's and replayed kept events' too, as it is booked. */
  const inspect = ({ command, decision, ...booked }: BookedDecision) => {
    for (const transaction of decision.transactions) kinds.add(transaction.kind);
    checkRefunds(command, decision, currency);
    checkFees(decision, fees, releasedVolume, currency);
    for (const transaction of decision.transactions) {
      if (transaction.release) releasedVolume += transaction.release.gross.minor;
    }
    const broken = [
      ...model.observe({ command, decision, ...booked }),
      ...brokenBalances(model, sim.balances, sim.milestones.values()),
      ...sim.brokenInvariants(),
    ];
    if (broken.length > 0) throw new Error(`after ${command.type}: ${broken.join('; ')}`);
  };
  sim.onBooked = inspect;
  const snapshot = () => [...sim.balances].map(([code, minor]) => `${code}=${minor}`).join(',');

  /** A new command: a settlement's key may be taken already (the model says how it must be answered). */
  const deliverNew = (command: EscrowCommand, step: Intent) => {
    const balancesBefore = snapshot();
    const stale =
      step.kind === 'refund' && step.staleVersion
        ? { milestone: current(step.order, step.milestone), orderId: orderId(step.order) }
        : undefined;
    const inbox = isSettlement(command) ? model.inbox.verdict(command) : 'NEW';
    const result = sim.deliver(command);
    if (isSettlement(command)) model.inbox.delivered(command);
    if (inbox !== 'NEW') {
      agree({ command: command.type, result }, { command: command.type, result: inbox });
      agree(snapshot(), balancesBefore);
    } else agree(typeof result, 'object');
    delivered.push(command);
    if (command.type === 'PAYMENT_CONFIRMED') payments.push(command);
    // A command naming a version the milestone has left is refused, and changes nothing.
    if (stale?.milestone !== undefined && sim.orderOf(stale.orderId) !== null) {
      agree(typeof result === 'string' ? result : [result.status, result.reason], [
        'REJECTED',
        'CONFLICT',
      ]);
      agree(snapshot(), balancesBefore);
      covered.conflicts += 1;
    }
  };

  /**
   * A redelivery has no second effect: the same event again, a payment or
   * settlement again under a new eventId (a retrying gateway), or one of them
   * with its key reused for another amount (an idempotency conflict).
   */
  let alterations = 0;
  const redeliver = (step: Intent & { kind: 'redeliver' }) => {
    if (delivered.length === 0) return;
    const original = delivered[step.index % delivered.length]!;
    const keyed = original.type === 'PAYMENT_CONFIRMED' || isSettlement(original);
    const variant = keyed ? step.variant : 'same';
    let again = original;
    if (variant !== 'same' && keyed) {
      const minor = parseAmount(original.amount, original.currency).minor;
      const amount = variant === 'altered' ? minor + BigInt(++alterations) : minor;
      again = { ...original, eventId: eventId(), amount: amountText(amount, original.currency) };
    }
    // A settlement's key may have been reused already (the model keeps its inbox).
    const expected = isSettlement(again)
      ? model.inbox.verdict(again)
      : variant === 'altered'
        ? 'IDEMPOTENCY_CONFLICT'
        : 'DUPLICATE';
    const balancesBefore = snapshot();
    const result = sim.deliver(again);
    if (isSettlement(again)) model.inbox.delivered(again);
    agree(
      { command: again.type, variant, result },
      { command: again.type, variant, result: expected },
    );
    agree(snapshot(), balancesBefore);
    if (expected === 'DUPLICATE') covered.duplicates += 1;
    else covered.idempotencyConflicts += 1;
  };

  /** The timer: every milestone whose inspection deadline has passed. */
  const timer = () => {
    for (const m of [...sim.milestones.values()]) {
      if (!m.inspectionDeadline || m.inspectionDeadline > sim.now) continue;
      // Released by the timer when the contract says so: reached, not disputed,
      // holding its whole amount, and its inspection period over.
      const due =
        m.reached && m.disputeId === null && m.amount.minor > 0n && m.held.minor >= m.amount.minor;
      sim.deliver({
        type: 'INSPECTION_ELAPSED',
        eventId: eventId(),
        orderId: m.orderId,
        milestoneId: m.milestoneId,
      });
      if (due) {
        const state = sim.milestones.get(m.milestoneId)?.state;
        agree({ milestone: m.milestoneId, state }, { milestone: m.milestoneId, state: 'RELEASED' });
        covered.timerReleases += 1;
      }
    }
  };

  for (const step of intents) {
    if (step.kind === 'advance') {
      sim.now = new Date(sim.now.getTime() + step.seconds * 1000);
      timer();
    } else if (step.kind === 'redeliver') redeliver(step);
    else if (step.kind === 'retry') {
      // What `escrow-worker payouts retry` does: a new request, the failed one RETRIED; nothing moves.
      const failed = settlements.retryTarget(step);
      if (failed === undefined) continue;
      const balancesBefore = snapshot();
      model.retried(sim.retry(failed));
      agree(snapshot(), balancesBefore);
      const broken = brokenBalances(model, sim.balances, sim.milestones.values());
      if (broken.length > 0) throw new Error(`after a retry of ${failed}: ${broken.join('; ')}`);
    } else for (const command of toCommands(step)) deliverNew(command, step);
    // A chargeback kept for its payment is applied as soon as the payment is.
    agree(model.stuckChargebacks(), []);
  }
  covered.runs += 1;
  if (kinds.has('FUNDING')) covered.funded += 1;
  if (kinds.has('RELEASE')) covered.released += 1;
  if (kinds.has('REFUND') || kinds.has('OVERPAYMENT_REFUND')) covered.refunded += 1;
  if (kinds.has('DISPUTE_FREEZE')) covered.disputed += 1;
  if (kinds.has('DISPUTE_RESOLUTION')) covered.resolved += 1;
  for (const seen of model.seen) covered.money.set(seen, (covered.money.get(seen) ?? 0) + 1);
}

/**
 * expect(actual).toEqual(expected), built only when the two differ: these
 * checks run for every decision of every run, and an expect costs far more
 * than the comparison.
 */
function agree<T>(actual: T, expected: T): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

const present = <T>(command: T | undefined): T[] => (command === undefined ? [] : [command]);

/** Refunds against what was asked: a refund request's amount and reason, a payment in another currency refunded whole. */
function checkRefunds(command: EscrowCommand, decision: Decision, currency: string) {
  const refunds = decision.outcomes
    .filter((outcome) => outcome.type === 'REFUND_REQUESTED')
    .map((outcome) => {
      const fields = outcome.fields as Record<string, string>;
      return { amount: fields.amount, currency: fields.currency, reason: fields.reason };
    });
  if (command.type === 'REFUND_REQUESTED' && decision.status === 'APPLIED') {
    agree(refunds, [
      {
        amount: formatAmount(parseAmount(command.amount, currency)),
        currency,
        reason: 'REQUESTED',
      },
    ]);
  }
  if (command.type === 'PAYMENT_CONFIRMED' && decision.reason === 'CURRENCY_MISMATCH') {
    agree(refunds, [
      {
        amount: formatAmount(parseAmount(command.amount, command.currency)),
        currency: command.currency,
        reason: 'CURRENCY_MISMATCH',
      },
    ]);
    covered.mismatches += 1;
  }
}

/**
 * Fees against the fee model: a release's payout (gross = fee + recovered +
 * net), a resolved dispute's fee, and the pending split a refund publishes
 * (what a release at that moment would charge).
 */
function checkFees(decision: Decision, fees: FeePolicy, volume: bigint, currency: string) {
  const minor = (text: string) => parseAmount(text, currency, { allowZero: true }).minor;
  for (const outcome of decision.outcomes) {
    const fields = outcome.fields as Record<string, string>;
    if (outcome.type === 'PAYOUT_REQUESTED') {
      const [gross, fee, recovered, net] = [
        fields.grossAmount!,
        fields.feeAmount!,
        fields.recoveredAmount!,
        fields.netAmount!,
      ].map(minor) as [bigint, bigint, bigint, bigint];
      agree({ gross, sum: fee + recovered + net }, { gross, sum: gross });
      if (decision.transactions[outcome.transactionIndex!]?.kind === 'RELEASE') {
        agree(
          { gross, fee },
          {
            gross,
            fee: modelReleaseFee(fees, gross, volume, currency),
          },
        );
      }
    }
    if (outcome.type === 'DISPUTE_RESOLVED') {
      const provider = minor(fields.providerAmount!);
      agree(
        { provider, fee: minor(fields.feeAmount!) },
        {
          provider,
          fee: modelDisputeFee(fees, provider, volume, currency),
        },
      );
    }
    // A refund publishes the split a release at that moment would make.
    if (outcome.type === 'FUNDS_REFUNDED') {
      const releasable =
        minor(fields.held!) < minor(fields.amount!) ? fields.held! : fields.amount!;
      const fee = modelReleaseFee(fees, minor(releasable), volume, currency);
      agree(
        { pendingFee: minor(fields.pendingFee!), pendingEarnings: minor(fields.pendingEarnings!) },
        { pendingFee: fee, pendingEarnings: minor(releasable) - fee },
      );
      covered.pendingSplits += 1;
    }
  }
}

/** Runs open their orders early more often than not (kept events still arrive first). */
const runs: fc.Arbitrary<Run> = fc.constantFrom(...currencies).chain((currency) =>
  fc
    .record({
      fees: policy(currency),
      amounts: fc.array(
        fc.array(fc.bigInt({ min: 1n, max: 1_000_000n }), { minLength: 3, maxLength: 3 }),
        { minLength: 1, maxLength: 3 },
      ),
      openEarly: fc.boolean(),
      intents: fc.array(intent, { minLength: 5, maxLength: 80, size: 'max' }),
    })
    .map(({ fees, amounts, openEarly, intents }) => ({
      currency,
      fees,
      amounts,
      intents: openEarly
        ? [
            intents[0]!,
            ...amounts.map((_, order) => ({ kind: 'open' as const, order })),
            ...intents.slice(1),
          ]
        : intents,
    })),
);

test('any sequence of commands and settlements keeps the invariants after every decision, and pays the modelled fees', () => {
  fc.assert(
    fc.property(runs, (run) => scenario(run)),
    { numRuns: 1500 },
  );
  // Enough of the runs took each path; a domain that refuses everything does not.
  const share = (count: number) => count / covered.runs;
  const money = (seen: string) => share(covered.money.get(seen) ?? 0);
  expect(share(covered.funded)).toBeGreaterThan(0.5);
  expect(share(covered.released)).toBeGreaterThan(0.1);
  expect(share(covered.refunded)).toBeGreaterThan(0.5);
  expect(share(covered.disputed)).toBeGreaterThan(0.1);
  expect(share(covered.resolved)).toBeGreaterThan(0.03);
  expect(covered.conflicts).toBeGreaterThan(200);
  expect(covered.timerReleases).toBeGreaterThan(20);
  expect(covered.mismatches).toBeGreaterThan(20);
  expect(covered.pendingSplits).toBeGreaterThan(200);
  expect(covered.duplicates).toBeGreaterThan(1000);
  expect(covered.idempotencyConflicts).toBeGreaterThan(200);
  // The money loop: each path in a share of runs (see moneyFloors for how the floors were set).
  const moneyShares = Object.fromEntries(
    Object.keys(moneyFloors).map((seen) => [seen, money(seen)]),
  );
  const below = Object.entries(moneyFloors).filter(([seen, floor]) => moneyShares[seen]! <= floor);
  expect({ below, moneyShares }).toEqual({ below: [], moneyShares });
});

/**
 * The share of runs below which a money-loop path counts as not covered. The seed is random,
 * so each floor must sit well under what any seed gives: over 61 seeds (1,500 runs each) the
 * common paths varied by less than ±15 % around their median and sit at about half of it; the
 * rare paths (a median of 20–50 runs) varied from half to one and a half times their median,
 * so they sit at about a sixth. A domain that never takes a path still fails: every path must
 * be taken in more than 3 runs.
 */
const moneyFloors: Readonly<Record<string, number>> = {
  payoutPaid: 0.15,
  payoutFailed: 0.05,
  refundPaid: 0.25,
  refundFailed: 0.12,
  payoutRetried: 0.03,
  refundRetried: 0.07,
  retryPaid: 0.02,
  // A request settled a second time, or its retried old outcome settled: INVALID_STATE.
  'rejected INVALID_STATE': 0.2,
  retriedRefused: 0.02,
  'rejected SETTLEMENT_MISMATCH': 0.2,
  chargebackFromHeld: 0.18,
  chargebackFromDisputed: 0.05,
  chargebackAfterRelease: 0.15,
  chargebackFromPlatform: 0.15,
  keptChargebackApplied: 0.2,
  // Median 27 runs of 1,500, lowest seen 15.
  netted: 0.003,
  // Rarer since a chargeback of money refunded at once (an overpayment) is the platform's
  // loss rather than a receivable. Median 50 runs, lowest seen 35.
  nettedAcrossOrders: 0.006,
  // Median 28 runs, lowest seen 16.
  nettedWhole: 0.003,
  reversed: 0.15,
  reversalReturnedToMilestone: 0.04,
  reversalRefundedBuyer: 0.04,
  // Median 20 runs, lowest seen 10 (a CI run failed at 9 when this floor was 0.006).
  reversalRepaidProvider: 0.002,
};
