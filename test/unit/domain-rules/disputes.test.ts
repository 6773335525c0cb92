/**
 * The dispute rules of CONTRACT.md (escrow.disputes.v1) that an operator and the
 * dispute desk read back: which dispute a rejection names and why, what each
 * freeze, unfreeze and resolution records (its disputeId on the ledger and in
 * the outcome), and that a resolution may give either side nothing.
 */
import { defaultFeePolicy } from '../../../src/domain/fees';
import type { Decision } from '../../../src/domain/escrow';
import { EscrowSimulator } from '../../support/escrow-simulator';
import { command, decided, openOrder, outcomeTypes, payment, start } from '../escrow/fixtures';

const ids = { orderId: 'order-1', milestoneId: 'm-1' } as const;

/** A 1000.00 USD milestone, funded, at 10 % (plus a 25.00 dispute fee when asked). */
function funded(disputeFee = false): EscrowSimulator {
  const policy = defaultFeePolicy('0.10');
  const sim = new EscrowSimulator(
    start,
    disputeFee ? { ...policy, disputeFees: { USD: '25.00' } } : policy,
  );
  sim.deliver(openOrder([{}, {}]));
  sim.deliver(payment('1000.00'));
  return sim;
}

const open = (disputeId: string) => command({ type: 'DISPUTE_OPENED', ...ids, disputeId });
const withdraw = (disputeId: string) => command({ type: 'DISPUTE_WITHDRAWN', ...ids, disputeId });
const resolve = (disputeId: string, providerAmount: string, buyerAmount: string) =>
  command({
    type: 'DISPUTE_RESOLVED',
    ...ids,
    disputeId,
    resolution: { providerAmount, buyerAmount },
  });

function rejection(decision: Decision) {
  expect(decision.status).toBe('REJECTED');
  expect(decision.transactions).toEqual([]);
  expect(outcomeTypes(decision)).toEqual(['EVENT_REJECTED']);
  return { reason: decision.reason, message: decision.message };
}

describe('opening a dispute', () => {
  test('freezes the held funds under the dispute: the transaction and DISPUTE_OPENED name it', () => {
    const sim = funded();
    const decision = decided(sim.deliver(open('d-1')));
    expect(decision.transactions).toHaveLength(1);
    expect(decision.transactions[0]).toMatchObject({
      kind: 'DISPUTE_FREEZE',
      memo: { disputeId: 'd-1' },
    });
    expect(decision.outcomes[0]).toMatchObject({
      type: 'DISPUTE_OPENED',
      fields: { disputeId: 'd-1', state: 'DISPUTED', held: '0.00', disputed: '1000.00' },
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('a second dispute on a disputed milestone is INVALID_STATE naming the open one', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    expect(rejection(decided(sim.deliver(open('d-2'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 cannot be disputed: it is already disputed (d-1)',
    });
    expect(sim.milestones.get('m-1')).toMatchObject({
      disputeId: 'd-1',
      disputed: { minor: 100000n },
    });
  });
});

describe('withdrawing a dispute', () => {
  test('returns the funds to the hold: the transaction and DISPUTE_WITHDRAWN name the dispute', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    const decision = decided(sim.deliver(withdraw('d-1')));
    expect(decision.transactions[0]).toMatchObject({
      kind: 'DISPUTE_UNFREEZE',
      memo: { disputeId: 'd-1' },
    });
    expect(decision.outcomes[0]).toMatchObject({
      type: 'DISPUTE_WITHDRAWN',
      fields: { disputeId: 'd-1', held: '1000.00', disputed: '0.00' },
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('on a milestone with no dispute is INVALID_STATE: it has no open dispute', () => {
    const sim = funded();
    expect(rejection(decided(sim.deliver(withdraw('d-1'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 has no open dispute',
    });
  });

  test('under another disputeId is INVALID_STATE naming both disputes, and changes nothing', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    expect(rejection(decided(sim.deliver(withdraw('d-9'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 is disputed under d-1, not d-9',
    });
    expect(sim.milestones.get('m-1')).toMatchObject({
      disputeId: 'd-1',
      disputed: { minor: 100000n },
    });
  });
});

describe('resolving a dispute', () => {
  test('under another disputeId is INVALID_STATE naming both disputes', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    expect(rejection(decided(sim.deliver(resolve('d-2', '500.00', '500.00'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 is disputed under d-1, not d-2',
    });
  });

  test('with no dispute open is INVALID_STATE: it has no open dispute', () => {
    const sim = funded();
    expect(rejection(decided(sim.deliver(resolve('d-1', '500.00', '500.00'))))).toEqual({
      reason: 'INVALID_STATE',
      message: 'milestone m-1 has no open dispute',
    });
  });

  test.each([
    ['resolution.providerAmount', '500.001', '500.00'],
    ['resolution.buyerAmount', '500.00', '499.999'],
  ])(
    'a %s with too many decimals is AMOUNT_PRECISION naming that field',
    (field, provider, buyer) => {
      const sim = funded();
      sim.deliver(open('d-1'));
      const refused = rejection(decided(sim.deliver(resolve('d-1', provider, buyer))));
      expect(refused.reason).toBe('AMOUNT_PRECISION');
      expect(refused.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: amount `));
    },
  );

  test('all to the buyer (providerAmount 0.00) refunds the whole disputed amount: REFUNDED', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    const decision = decided(sim.deliver(resolve('d-1', '0.00', '1000.00')));
    expect(decision.status).toBe('APPLIED');
    expect(outcomeTypes(decision)).toEqual(['DISPUTE_RESOLVED', 'REFUND_REQUESTED']);
    expect(decision.outcomes[1]!.fields).toMatchObject({ amount: '1000.00', reason: 'DISPUTE' });
    expect(sim.milestones.get('m-1')).toMatchObject({ state: 'REFUNDED', disputeId: null });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('all to the provider (buyerAmount 0.00) releases it with the fee: RELEASED, no refund', () => {
    const sim = funded();
    sim.deliver(open('d-1'));
    const decision = decided(sim.deliver(resolve('d-1', '1000.00', '0.00')));
    expect(outcomeTypes(decision)).toEqual(['DISPUTE_RESOLVED', 'PAYOUT_REQUESTED']);
    expect(decision.outcomes[1]!.fields).toMatchObject({
      grossAmount: '1000.00',
      feeAmount: '100.00',
      netAmount: '900.00',
    });
    expect(sim.milestones.get('m-1')).toMatchObject({ state: 'RELEASED' });
    expect(sim.brokenInvariants()).toEqual([]);
  });

  test('records the dispute, the fee policy and rate, the dispute fee and the original intent', () => {
    const sim = funded(true);
    sim.deliver(open('d-1'));
    const decision = decided(sim.deliver(resolve('d-1', '600.00', '400.00')));
    expect(decision.transactions).toHaveLength(1);
    expect(decision.transactions[0]).toMatchObject({
      kind: 'DISPUTE_RESOLUTION',
      memo: {
        disputeId: 'd-1',
        feePolicyId: null,
        feeRate: '0.10',
        disputeFee: '25.00',
        originalAmount: '1000.00',
      },
    });
    // 600.00 at 10 % is 60.00, plus the 25.00 dispute fee.
    expect(decision.outcomes[0]).toMatchObject({
      type: 'DISPUTE_RESOLVED',
      fields: {
        disputeId: 'd-1',
        providerAmount: '600.00',
        buyerAmount: '400.00',
        feeAmount: '85.00',
        disputeFeeAmount: '25.00',
        recoveredAmount: '0.00',
        state: 'RELEASED',
      },
    });
    expect(sim.brokenInvariants()).toEqual([]);
  });
});
