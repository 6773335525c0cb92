/**
 * What left the system for the money's downstream consumers, against the
 * suite's own bookkeeping (scenarios.ts): per milestone, exactly the
 * PAYOUT_REQUESTED outcomes its scenario makes, each with its gross, fee and
 * net, and exactly the REFUND_REQUESTED outcomes, each with its currency,
 * amount and reason (and, with no milestone, the order's own refunds of
 * payments in the wrong currency). Read from the topics (check-topics.ts), one copy per
 * outcome id as a consumer that drops duplicates keeps it; anything else on
 * those topics, or anything missing, is a finding.
 */
import type { RegistryCodec } from '../../src/codec/registry-codec';
import type { PublishedMessage } from './check-topics';
import type { Findings } from './findings';
import type { ExpectedPayout, ExpectedRefund } from './scenario-tools';
import type { OrderScript } from './workload';

const where = (orderId: unknown, milestoneId: unknown) =>
  `${String(orderId)}\u0001${String(milestoneId)}`;
const shown = (key: string) => key.replace('\u0001', '/');

/** "1234.56" or "1234" (the currency's own digits, as outcomes carry them) → minor units. */
const minorOf = (text: unknown): bigint | undefined =>
  typeof text === 'string' && /^-?\d+(\.\d+)?$/.test(text)
    ? BigInt(text.replace('.', ''))
    : undefined;

const payoutText = (payout: ExpectedPayout) =>
  `gross ${payout.gross} fee ${payout.fee} recovered ${payout.recovered} net ${payout.gross - payout.fee - payout.recovered}`;
const refundText = (refund: ExpectedRefund) =>
  `${refund.amount} ${refund.currency} ${refund.reason}`;

export async function checkOutbound(
  codec: RegistryCodec,
  orders: readonly OrderScript[],
  published: readonly PublishedMessage[],
  findings: Findings,
): Promise<void> {
  findings.check(
    'payouts_as_expected',
    'each milestone published exactly the payouts its scenario makes, with their gross, fee, recovered and net',
  );
  findings.check(
    'refunds_as_expected',
    'each milestone published exactly the refunds its scenario makes, with their amount and reason',
  );
  const expected = new Map<string, { payouts: string[]; refunds: string[] }>();
  for (const order of orders) {
    for (const milestone of order.milestones) {
      expected.set(where(milestone.orderId, milestone.milestoneId), {
        payouts: milestone.payouts.map(payoutText),
        refunds: milestone.refunds.map(refundText),
      });
    }
    if (order.orderRefunds.length > 0)
      expected.set(where(order.orderId, null), {
        payouts: [],
        refunds: order.orderRefunds.map(refundText),
      });
  }
  const got = new Map<string, { payouts: string[]; refunds: string[] }>();
  const entry = (key: string) =>
    got.get(key) ?? got.set(key, { payouts: [], refunds: [] }).get(key)!;
  const kept = new Set<string>();
  for (const message of published) {
    if (message.topic === 'escrow.events.v1' || message.outcomeId === undefined) continue;
    // A consumer drops a copy it has seen (check-topics.ts proves the copies are equal).
    if (kept.has(message.outcomeId)) continue;
    kept.add(message.outcomeId);
    const check =
      message.topic === 'escrow.payouts.v1' ? 'payouts_as_expected' : 'refunds_as_expected';
    const decoded = await codec.decode(message.topic, message.value);
    if (!decoded.ok) {
      findings.add(check, `outcome ${message.outcomeId} cannot be decoded: ${decoded.reason}`);
      continue;
    }
    const value = decoded.value as Record<string, unknown>;
    const key = where(value.orderId, value.milestoneId);
    if (message.topic === 'escrow.payouts.v1') {
      const [gross, fee, net] = [value.grossAmount, value.feeAmount, value.netAmount].map(minorOf);
      // netAmount is what is paid: a receivable from chargebacks is netted first.
      const recovered = minorOf(value.recoveredAmount ?? '0') ?? 0n;
      if (
        gross === undefined ||
        fee === undefined ||
        net === undefined ||
        gross - fee - recovered !== net
      ) {
        findings.add(
          check,
          `${shown(key)}: payout ${message.outcomeId} is ${String(value.grossAmount)} - ${String(value.feeAmount)} - ${String(value.recoveredAmount)} ≠ ${String(value.netAmount)}`,
        );
        continue;
      }
      entry(key).payouts.push(payoutText({ gross, fee, recovered }));
    } else {
      const amount = minorOf(value.amount);
      if (amount === undefined) {
        findings.add(
          check,
          `${shown(key)}: refund ${message.outcomeId} has amount ${String(value.amount)}`,
        );
        continue;
      }
      const reason = String(value.reason) as ExpectedRefund['reason'];
      entry(key).refunds.push(refundText({ currency: String(value.currency), amount, reason }));
    }
  }
  for (const key of new Set([...expected.keys(), ...got.keys()])) {
    const want = expected.get(key);
    const have = got.get(key) ?? { payouts: [], refunds: [] };
    if (want === undefined) {
      const what = [
        ...have.payouts.map((p) => `payout ${p}`),
        ...have.refunds.map((r) => `refund ${r}`),
      ];
      findings.add(
        have.payouts.length > 0 ? 'payouts_as_expected' : 'refunds_as_expected',
        `${shown(key)} is no milestone of the stream, yet has ${what.join('; ')}`,
      );
      continue;
    }
    compare('payouts_as_expected', shown(key), 'payouts', want.payouts, have.payouts, findings);
    compare('refunds_as_expected', shown(key), 'refunds', want.refunds, have.refunds, findings);
  }
}

/** The two lists as multisets: what is missing and what is extra, each named. */
function compare(
  check: string,
  milestone: string,
  what: string,
  want: readonly string[],
  have: readonly string[],
  findings: Findings,
): void {
  const left = [...have];
  const missing: string[] = [];
  for (const item of want) {
    const at = left.indexOf(item);
    if (at === -1) missing.push(item);
    else left.splice(at, 1);
  }
  if (missing.length === 0 && left.length === 0) return;
  findings.add(
    check,
    `${milestone}: ${what} expected [${want.join('; ')}], published [${have.join('; ')}]`,
  );
}
