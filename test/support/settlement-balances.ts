/**
 * Money is never nowhere (DESIGN.md invariants 4 and 6), account by account:
 * per currency, the ledger's balances against what the settlement model
 * worked out from the commands. Gateway clearing holds what was received
 * less what was paid out, refunded and charged back (plus what reversals
 * brought back); provider payables are the payouts asked for and not paid
 * (in payout, or failed and waiting for a retry); buyer refund payables the
 * same for refunds; receivables the provider parts of standing chargebacks
 * not yet recovered; revenue the fees and service fees less what standing
 * chargebacks took from it. With the holds and disputed funds of the
 * milestones, these explain every unit received.
 */
import type { Milestone } from '../../src/domain/escrow';
import type { SettlementModel } from './settlement-model';

const kinds = [
  'GATEWAY_CLEARING',
  'ESCROW_HOLD',
  'DISPUTED_FUNDS',
  'PROVIDER_PAYABLE',
  'BUYER_REFUND_PAYABLE',
  'PROVIDER_RECEIVABLE',
  'PLATFORM_REVENUE',
] as const;
type Kind = (typeof kinds)[number];

export function brokenBalances(
  model: SettlementModel,
  balances: ReadonlyMap<string, bigint>,
  milestones: Iterable<Milestone>,
): string[] {
  const ledger = new Map<string, Record<Kind, bigint>>();
  const of = (currency: string) => {
    let sums = ledger.get(currency);
    if (sums === undefined)
      ledger.set(
        currency,
        (sums = Object.fromEntries(kinds.map((k) => [k, 0n])) as Record<Kind, bigint>),
      );
    return sums;
  };
  for (const [code, balance] of balances) {
    const [kind, currency] = code.split(':') as [Kind, string];
    of(currency)[kind] += balance;
  }
  const held = new Map<string, bigint>();
  for (const m of milestones)
    held.set(m.currency, (held.get(m.currency) ?? 0n) + m.held.minor + m.disputed.minor);
  for (const currency of model.totals.keys()) of(currency);
  const problems: string[] = [];
  for (const [currency, sums] of ledger) {
    const expected = expectedBalances(model, currency);
    const t = model.totalsOf(currency);
    const compare = (what: string, actual: bigint, wanted: bigint) => {
      if (actual !== wanted)
        problems.push(`${currency} ${what}: ledger ${actual}, model ${wanted}`);
    };
    compare('gateway clearing', sums.GATEWAY_CLEARING, expected.clearing);
    compare('provider payables (payouts asked, not paid)', sums.PROVIDER_PAYABLE, expected.payable);
    compare(
      'buyer refund payables (refunds asked, not paid)',
      sums.BUYER_REFUND_PAYABLE,
      expected.refundPayable,
    );
    compare('provider receivables', sums.PROVIDER_RECEIVABLE, -expected.outstanding);
    compare('platform revenue', sums.PLATFORM_REVENUE, expected.revenue);
    compare(
      'receivable created − recovered by releases − cancelled by reversals',
      t.receivablesCreated - t.recoveredByReleases - t.receivablesCancelled,
      expected.outstanding,
    );
    if (expected.outstanding > t.chargedBack - t.chargebacksReversed)
      problems.push(
        `${currency} receivable ${expected.outstanding} exceeds what was charged back less reversed`,
      );
    // Every unit received is somewhere: paid out, refunded, charged back, or on an account.
    const kept = t.received - t.paidOut - t.refundsPaid - t.chargedBack + t.chargebacksReversed;
    const accounted =
      (held.get(currency) ?? 0n) +
      expected.payable +
      expected.refundPayable +
      expected.revenue -
      expected.outstanding;
    compare(
      'money received and not paid out, refunded or charged back, against where it is',
      accounted,
      kept,
    );
  }
  return problems;
}

function expectedBalances(model: SettlementModel, currency: string) {
  const t = model.totalsOf(currency);
  let payable = 0n;
  let refundPayable = 0n;
  for (const request of model.requests.values()) {
    if (request.currency !== currency) continue;
    if (request.state !== 'REQUESTED' && request.state !== 'FAILED') continue;
    if (request.kind === 'PAYOUT') payable += request.amount;
    else refundPayable += request.amount;
  }
  let outstanding = 0n;
  let takenFromRevenue = 0n;
  for (const chargeback of model.chargebacks.values()) {
    if (chargeback.currency !== currency || chargeback.reversed) continue;
    outstanding += chargeback.receivable - chargeback.recovered;
    takenFromRevenue += chargeback.feeReversed + chargeback.fromPlatform;
  }
  return {
    // Clearing is an asset: negative while it holds money received.
    clearing: -(t.received - t.paidOut - t.refundsPaid - t.chargedBack + t.chargebacksReversed),
    payable,
    refundPayable,
    outstanding,
    revenue: t.fees + t.serviceFees - takenFromRevenue,
  };
}
