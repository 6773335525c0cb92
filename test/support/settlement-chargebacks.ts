/**
 * The settlement model's chargeback rules, written from docs/settlements.md
 * rather than from the domain: where a chargeback's money comes from (held,
 * then disputed, then released — the fee part in proportion to the fees
 * still standing, rounded half-up, the rest a provider receivable — then the
 * platform), and what its reversal gives back to whom. Each check returns
 * the rules the decision broke, in words.
 */
import type { Decision, Milestone, OutcomeDraft, Settle } from '../../src/domain/escrow';
import {
  min,
  minorOf,
  type ModelChargeback,
  type ModelPayment,
  paymentId,
} from './settlement-figures';

export type ChargebackParts = Omit<ModelChargeback, 'providerId' | 'recovered' | 'reversed'>;

const terminal: ReadonlySet<string> = new Set(['RELEASED', 'REFUNDED', 'CANCELLED']);

/** n / d rounded half-up, for non-negative n and positive d. */
const halfUp = (n: bigint, d: bigint) => (2n * n + d) / (2n * d);

/** Where a chargeback of `amount` on this payment comes from, given the milestones as read. */
export function chargebackSources(
  payment: ModelPayment,
  amount: bigint,
  before: ReadonlyMap<string, Milestone>,
  chargebacks: Iterable<ModelChargeback>,
): ChargebackParts {
  const { orderId, milestoneId, currency } = payment;
  const base = { orderId, milestoneId, currency, amount };
  const milestone = milestoneId === null ? undefined : before.get(milestoneId);
  // A service fee, or a payment refunded at once (for its currency, or as more than its
  // milestone needed): what never reached the milestone is the platform's loss.
  if (
    milestone === undefined ||
    milestone.orderId !== orderId ||
    milestone.currency !== currency ||
    payment.applied === 0n
  )
    return {
      ...base,
      fromHeld: 0n,
      fromDisputed: 0n,
      feeReversed: 0n,
      receivable: 0n,
      fromPlatform: amount,
    };
  const reachable = min(amount, payment.applied);
  const fromHeld = min(reachable, milestone.held.minor);
  const fromDisputed = min(reachable - fromHeld, milestone.disputed.minor);
  // What the milestone released that no standing chargeback took back, and the fees on it.
  let releasedLeft = milestone.released.minor;
  let feesLeft = milestone.fees.minor;
  for (const other of chargebacks) {
    if (other.reversed || other.orderId !== orderId || other.milestoneId !== milestoneId) continue;
    releasedLeft -= other.feeReversed + other.receivable;
    feesLeft -= other.feeReversed;
  }
  const fromReleased = min(reachable - fromHeld - fromDisputed, releasedLeft);
  const feeReversed =
    fromReleased > 0n ? min(feesLeft, halfUp(fromReleased * feesLeft, releasedLeft)) : 0n;
  return {
    ...base,
    fromHeld,
    fromDisputed,
    feeReversed,
    receivable: fromReleased - feeReversed,
    fromPlatform: amount - fromHeld - fromDisputed - fromReleased,
  };
}

const partNames = [
  'fromHeld',
  'fromDisputed',
  'feeReversed',
  'receivable',
  'fromPlatform',
] as const;

/** CHARGEBACK_APPLIED names every part, the parts sum to the amount, and the milestone gives up its share. */
export function chargebackProblems(
  command: Settle,
  decision: Decision,
  parts: ChargebackParts,
  before: ReadonlyMap<string, Milestone>,
): string[] {
  const named = `CHARGEBACK ${command.gatewayReference}`;
  const problems: string[] = [];
  const outcome = only(decision.outcomes, 'CHARGEBACK_APPLIED', problems, named);
  if (outcome === undefined) return problems;
  const fields = outcome.fields as Record<string, string>;
  const published = partNames.map((name) => minorOf(fields[name]!, parts.currency));
  const expected = partNames.map((name) => parts[name]);
  if (published.join() !== expected.join())
    problems.push(
      `${named}: parts ${partNames.join('/')} published ${published.join('/')}, expected ${expected.join('/')}`,
    );
  const sum = published.reduce((total, part) => total + part, 0n);
  if (sum !== parts.amount || minorOf(fields.chargebackAmount!, parts.currency) !== parts.amount)
    problems.push(`${named}: parts sum to ${sum}, not to the ${parts.amount} charged back`);
  const read = parts.milestoneId === null ? undefined : before.get(parts.milestoneId);
  const changed = decision.milestones.find((m) => m.milestoneId === parts.milestoneId);
  const pulled = parts.fromHeld + parts.fromDisputed;
  if (read === undefined || pulled === 0n) {
    if (changed !== undefined) problems.push(`${named} changed a milestone it took nothing from`);
    return problems;
  }
  const figures = (m: Milestone | undefined) =>
    m && [m.held.minor, m.disputed.minor, m.funded.minor, m.version].join('/');
  const wanted = [
    read.held.minor - parts.fromHeld,
    read.disputed.minor - parts.fromDisputed,
    read.funded.minor - pulled,
    read.version + 1,
  ].join('/');
  if (figures(changed) !== wanted)
    problems.push(
      `${named}: milestone held/disputed/funded/version ${figures(changed)}, expected ${wanted}`,
    );
  return problems;
}

/**
 * CHARGEBACK_REVERSED: the held and disputed parts back to the milestone as
 * far as it still needs them (not when it is closed or its order cancelled),
 * the rest refunded to the buyer; the receivable still owed cancelled, what
 * releases recovered paid back to the provider.
 */
export function reversalProblems(
  command: Settle,
  decision: Decision,
  chargeback: ModelChargeback,
  before: ReadonlyMap<string, Milestone>,
  orderOpen: boolean,
) {
  const named = `CHARGEBACK_REVERSED ${command.gatewayReference}`;
  const problems: string[] = [];
  const { currency, recovered } = chargeback;
  const returned = chargeback.fromHeld + chargeback.fromDisputed;
  const read = chargeback.milestoneId === null ? undefined : before.get(chargeback.milestoneId);
  const needed = (m: Milestone) =>
    m.amount.minor - m.held.minor - m.disputed.minor - m.released.minor;
  const usable =
    read !== undefined && !terminal.has(read.state) && orderOpen
      ? min(returned, needed(read) > 0n ? needed(read) : 0n)
      : 0n;
  const toBuyer = returned - usable;
  const figures = { usable, toBuyer };
  const outcome = only(decision.outcomes, 'CHARGEBACK_REVERSED', problems, named);
  if (outcome === undefined) return { ...figures, problems };
  const fields = outcome.fields as Record<string, string>;
  const published = [
    'returnedToMilestone',
    'refundedToBuyer',
    'repaidToProvider',
    'receivableCancelled',
  ]
    .map((name) => minorOf(fields[name]!, currency))
    .join('/');
  const expected = [usable, toBuyer, recovered, chargeback.receivable - recovered].join('/');
  if (published !== expected)
    problems.push(
      `${named}: returned/refunded/repaid/cancelled ${published}, expected ${expected}`,
    );
  const index = decision.transactions.findIndex((t) => t.kind === 'CHARGEBACK_REVERSAL');
  const asked = (type: string) =>
    decision.outcomes
      .filter((o) => o.type === type && o.transactionIndex === index)
      .map((o) => {
        const f = o.fields as Record<string, string>;
        return type === 'REFUND_REQUESTED'
          ? `${minorOf(f.amount!, currency)} ${f.reason}`
          : [f.grossAmount, f.feeAmount, f.recoveredAmount, f.netAmount]
              .map((text) => minorOf(text!, currency))
              .join('/');
      })
      .join();
  const payout = recovered > 0n ? `${recovered}/0/0/${recovered}` : '';
  if (asked('PAYOUT_REQUESTED') !== payout)
    problems.push(`${named}: payout ${asked('PAYOUT_REQUESTED')}, expected ${payout}`);
  const refund = toBuyer > 0n ? `${toBuyer} OVERPAYMENT` : '';
  if (asked('REFUND_REQUESTED') !== refund)
    problems.push(`${named}: refund ${asked('REFUND_REQUESTED')}, expected ${refund}`);
  const changed = decision.milestones.find((m) => m.milestoneId === chargeback.milestoneId);
  if (usable > 0n && changed?.funded.minor !== read!.funded.minor + usable)
    problems.push(
      `${named}: milestone funded ${changed?.funded.minor}, expected ${read!.funded.minor + usable}`,
    );
  if (usable === 0n && changed !== undefined)
    problems.push(`${named} changed a milestone it returned nothing to`);
  return { ...figures, problems };
}

/**
 * The chargebacks a decision stores (created, recovered from, reversed)
 * agree with the model: the same parts, the same recovered, oldest first.
 */
export function storedChargebackProblems(
  decision: Decision,
  modelled: ReadonlyMap<string, ModelChargeback>,
): string[] {
  const problems: string[] = [];
  for (const stored of decision.chargebacks ?? []) {
    const model = modelled.get(paymentId(stored.gateway, stored.gatewayReference));
    const actual = [
      stored.amount.minor,
      stored.fromHeld.minor,
      stored.fromDisputed.minor,
      stored.feeReversed.minor,
      stored.receivable.minor,
      stored.fromPlatform.minor,
      stored.recovered.minor,
      stored.reversed,
    ].join('/');
    const expected =
      model &&
      [
        model.amount,
        model.fromHeld,
        model.fromDisputed,
        model.feeReversed,
        model.receivable,
        model.fromPlatform,
        model.recovered,
        model.reversed,
      ].join('/');
    if (actual !== expected)
      problems.push(
        `chargeback of ${stored.gatewayReference} stored as ${actual} ` +
          `(amount/held/disputed/fee/receivable/platform/recovered/reversed), model ${expected}`,
      );
  }
  return problems;
}

function only(
  outcomes: readonly OutcomeDraft[],
  type: string,
  problems: string[],
  named: string,
): OutcomeDraft | undefined {
  const found = outcomes.filter((outcome) => outcome.type === type);
  if (found.length !== 1) problems.push(`${named} published ${found.length} ${type}`);
  return found[0];
}
