/**
 * What happens to one milestone in the stream, and what it must look like
 * once the stream has drained, whatever was killed or redelivered meanwhile.
 *
 * A scenario is a list of phases. The driver sends a phase only after every
 * event of the previous one reached the inbox, as the real upstream services
 * act on what they saw (the dispute desk opens a dispute on a funded
 * milestone). Events inside one phase race freely across topics; they are
 * chosen so that any order of arrival ends the same way (a payment before its
 * order is kept and replayed; a release waits for whichever of "reached" and
 * "funded" comes last). So every expectation below is exact: funded, held,
 * disputed, released (gross), fees and refunded, in minor units, and the state.
 */
import {
  expectedChargeback,
  feeOf,
  type MilestoneContext,
  type MilestoneScript,
  type ScenarioKind,
  scenarioTools,
  share,
} from './scenario-tools';
import { amountText, streamDispute, streamOrderCommand } from './stream-messages';

export {
  type ExpectedMilestone,
  type Ids,
  type ScenarioKind,
  scenarioKinds,
  scenarioWeights,
} from './scenario-tools';

export function milestoneScript(kind: ScenarioKind, c: MilestoneContext): MilestoneScript {
  const { rnd, ids, orderId, milestoneId, currency, amount: a } = c;
  const { pay, reached, expect, released, refund, payout, chargeback } = scenarioTools(kind, c);
  switch (kind) {
    case 'release': {
      // A deposit, one to three installments, the last racing the reached event.
      const deposit = share(rnd, a, 20, 60);
      const count = rnd.int(1, 3);
      const parts: bigint[] = [];
      let left = a - deposit;
      for (let i = 1; i < count && left > 1n; i++) {
        const part = share(rnd, left, 30, 60);
        parts.push(part);
        left -= part;
      }
      const middle = parts.flatMap((part) => pay('INSTALLMENT', part));
      return {
        phases: [pay('DEPOSIT', deposit), middle, [...pay('FINAL', left), reached()]],
        expected: released(a, a),
      };
    }
    case 'overpaid': {
      // The second payment is more than the milestone still needs: the rest goes back.
      const deposit = share(rnd, a, 40, 70);
      const extra = share(rnd, a, 1, 20);
      return {
        phases: [pay('DEPOSIT', deposit), pay('INSTALLMENT', a - deposit + extra), [reached()]],
        // The excess goes back as it arrives; the milestone's own refunded stays 0.
        expected: released(a, a, refund(extra, 'OVERPAYMENT')),
      };
    }
    case 'partialRefund': {
      const refunded = share(rnd, a, 10, 60);
      const request = streamOrderCommand({
        eventId: ids.event(),
        orderId,
        type: 'REFUND_REQUESTED',
        milestoneId,
        amount: amountText(currency, refunded),
        reason: 'work half done',
      });
      return {
        phases: [pay('DEPOSIT', a), [request], [reached()]],
        // Any reason upstream gives but PARTIAL_COMPLETION is published as REQUESTED.
        expected: released(a - refunded, a, refund(refunded, 'REQUESTED')),
      };
    }
    case 'partialCompletion': {
      const deposit = share(rnd, a, 30, 70);
      const final = share(rnd, a, 50, 95);
      return {
        phases: [pay('DEPOSIT', deposit), pay('INSTALLMENT', a - deposit), [reached(final)]],
        expected: released(final, a, refund(a - final, 'PARTIAL_COMPLETION')),
      };
    }
    case 'disputeResolved': {
      const disputeId = ids.dispute();
      const providerShare = rnd.pick([0n, a, share(rnd, a, 10, 90)]);
      const dispute = (type: 'OPENED' | 'RESOLVED') =>
        streamDispute({
          eventId: ids.event(),
          type,
          orderId,
          milestoneId,
          disputeId,
          ...(type === 'OPENED'
            ? { openedBy: 'buyer', reason: 'not as described' }
            : {
                actor: 'desk-agent-7',
                resolution: {
                  providerAmount: amountText(currency, providerShare),
                  buyerAmount: amountText(currency, a - providerShare),
                },
              }),
        });
      const resolvedState = providerShare > 0n ? 'RELEASED' : 'REFUNDED';
      return {
        phases: [pay('DEPOSIT', a), [dispute('OPENED')], [dispute('RESOLVED')]],
        expected: expect(resolvedState, {
          funded: a,
          released: providerShare,
          fees: feeOf(providerShare),
          refunded: a - providerShare,
          payouts: payout(providerShare),
          refunds: refund(a - providerShare, 'DISPUTE'),
        }),
      };
    }
    case 'disputeWithdrawn': {
      const disputeId = ids.dispute();
      const dispute = (type: 'OPENED' | 'WITHDRAWN') =>
        streamDispute({ eventId: ids.event(), type, orderId, milestoneId, disputeId });
      return {
        phases: [pay('DEPOSIT', a), [dispute('OPENED')], [dispute('WITHDRAWN')], [reached()]],
        expected: released(a, a),
      };
    }
    case 'cancelled': {
      const deposit = share(rnd, a, 20, 80);
      const cancel = streamOrderCommand({
        eventId: ids.event(),
        orderId,
        type: 'MILESTONE_CANCELLED',
        milestoneId,
      });
      return {
        phases: [pay('DEPOSIT', deposit), [cancel]],
        expected: expect('CANCELLED', {
          funded: deposit,
          refunded: deposit,
          refunds: refund(deposit, 'CANCELLED'),
        }),
      };
    }
    case 'unfinished': {
      // Work not delivered yet when the stream ends: the deposit stays held.
      const deposit = share(rnd, a, 20, 80);
      const paid = pay('DEPOSIT', deposit);
      if (!rnd.chance(0.4))
        return {
          phases: [paid],
          expected: expect('PARTIALLY_FUNDED', { funded: deposit, held: deposit }),
        };
      // The buyer's bank pulls part of the deposit back: taken from the hold, so the
      // milestone needs that much funding again. Sometimes it races its own payment (kept
      // until the payment is applied, then the same effect); sometimes the platform wins
      // the chargeback and the money returns to the hold.
      const pulled = share(rnd, deposit, 10, 90);
      const pulledBack = chargeback(paid[0]!, 'CHARGEBACK', pulled);
      const phases = rnd.chance(0.3) ? [[...paid, ...pulledBack]] : [paid, pulledBack];
      const reversed = rnd.chance(0.4);
      if (reversed) phases.push(chargeback(paid[0]!, 'CHARGEBACK_REVERSED', pulled));
      const left = reversed ? deposit : deposit - pulled;
      return {
        phases,
        expected: expect('PARTIALLY_FUNDED', {
          funded: left,
          held: left,
          chargebacks: [expectedChargeback(paid[0]!, pulled, { fromHeld: pulled, reversed })],
        }),
      };
    }
  }
}
