/**
 * Two lanes releasing for one provider against its outstanding receivable,
 * on real Postgres: two orders, so no order lock is shared, and the
 * chargeback row is read without a lock by both. The first transaction nets
 * the receivable and is held open before its commit (a gate); the second
 * reads the row as it was, decides to net it too, and its guarded update
 * waits on the first's row. Once the first commits, the guard no longer
 * matches: the second is refused ChargebackMoved, rolled back, and decided
 * again on the row as it now is. Nothing is netted twice, nothing is lost:
 * the chargeback records exactly what the releases took from the receivable.
 * Unguarded, the second would net the same money again and overwrite the
 * first's recovery: the ledger's floor refuses the first case (more
 * recovered than charged back), and nothing refuses the second (the ledger
 * nets 540.00 and the chargeback records 270.00).
 */
import type { Knex } from 'knex';
import type { EscrowCommand } from '../../src/domain/escrow';
import { applyBatch } from '../../src/pipeline/apply-batch';
import type { InboundEvent } from '../../src/pipeline/events';
import { inboxKeyOf } from '../../src/pipeline/inbox-key';
import { withRetry } from '../../src/pipeline/retry';
import { loadSlice } from '../../src/pipeline/slice-load';
import { SlicePlan } from '../../src/pipeline/slice-plan';
import { writeSlice } from '../../src/pipeline/slice-write';
import {
  milestone,
  openOrder,
  payment,
  reached,
  settlement,
  useContractPipeline,
} from '../support/contract-pipeline';
import { ledgerOf } from '../support/contract-rows';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

const event = (command: EscrowCommand): InboundEvent => ({
  topic: 'escrow.milestone-reached.v1',
  partition: 0,
  offset: '1',
  occurredAt: pipeline.now,
  command,
});

/** A slice applied as applyBatch applies it, but held open before its commit until `gate` opens. */
function heldSlice(command: EscrowCommand, written: () => void, gate: Promise<void>) {
  return ctx.db.transaction(async (trx: Knex.Transaction) => {
    const keyed = [{ event: event(command), ...inboxKeyOf(command) }];
    const plan = new SlicePlan(await loadSlice(trx, pipeline.settings(), keyed, {}));
    const [result] = plan.planAll(keyed);
    await writeSlice(trx, plan, pipeline.settings().topicPrefix);
    written();
    await gate;
    return result!;
  });
}

/** What an order's ledger took from the provider's receivable, in minor units. */
async function recoveredBy(orderId: string, providerId: string): Promise<bigint> {
  const code = `PROVIDER_RECEIVABLE:USD:${providerId}`;
  return (await ledgerOf(ctx.db, orderId))
    .map((transaction) => BigInt(transaction.entries[code] ?? '0'))
    .reduce((sum, minor) => sum + minor, 0n);
}

test.each([
  // Each release nets 540.00; 90.00 owed: the first nets it all, the retried one nothing.
  ['all of it', '100.00', 9_000n, [9_000n, 0n]],
  // Each release nets 270.00; 900.00 owed: the retried one nets the next 270.00, not the same.
  ['part of it', '1000.00', 90_000n, [27_000n, 27_000n]],
] as const)(
  'two releases of one provider racing on one receivable (%s): one nets first, the other is decided again on what is left',
  async (name, chargedAmount, receivableMinor, recoveries) => {
    const providerId = `p-race-${name.replace(/\W/g, '')}`;
    const [charged, first, second] = ['charged', 'first', 'second'].map(
      (order) => `o-${providerId}-${order}`,
    ) as [string, string, string];
    const releaseAmount = recoveries[1] === 0n ? '600.00' : '300.00';
    await pipeline.deliver(openOrder(charged, [milestone('m-1', chargedAmount)], { providerId }));
    await pipeline.deliver(payment(charged, 'm-1', chargedAmount, `ch-${charged}`));
    await pipeline.deliver(reached(charged, 'm-1'));
    await pipeline.deliver(
      settlement('CHARGEBACK', charged, {
        gatewayReference: `ch-${charged}`,
        amount: chargedAmount,
      }),
    );
    for (const orderId of [first, second]) {
      await pipeline.deliver(openOrder(orderId, [milestone('m-1', releaseAmount)], { providerId }));
      await pipeline.deliver(payment(orderId, 'm-1', releaseAmount, `ch-${orderId}`));
    }
    const chargeback = () =>
      ctx
        .db('chargebacks')
        .where({ gateway_reference: `ch-${charged}` })
        .first<{ receivable_minor: string; recovered_minor: string }>(
          'receivable_minor',
          'recovered_minor',
        );
    expect(await chargeback()).toEqual({
      receivable_minor: String(receivableMinor),
      recovered_minor: '0',
    });

    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = heldSlice(reached(first, 'm-1'), written, gate);
    await wrote;
    // The second reads the receivable as it was before the first's uncommitted recovery.
    const retried: unknown[] = [];
    const racing = withRetry(
      () => applyBatch(ctx.db, pipeline.settings(), [event(reached(second, 'm-1'))]),
      {
        attempts: 3,
        baseDelayMs: 1,
        maxDelayMs: 1,
        onRetry: (error) => retried.push(error),
      },
    );
    // Its guarded update waits on the row the first updated.
    await waitUntil(
      async () => {
        const { rows } = await ctx.db.raw<{ rows: unknown[] }>(
          // A row lock's waiter holds the row's tuple lock while it waits for the holder.
          `SELECT 1 FROM pg_stat_activity activity
           JOIN pg_locks row_lock ON row_lock.pid = activity.pid AND row_lock.locktype = 'tuple'
           WHERE activity.datname = current_database() AND activity.wait_event_type = 'Lock'
             AND row_lock.relation = 'chargebacks'::regclass`,
        );
        return rows.length === 1;
      },
      10_000,
      "the second release's chargeback update waiting on the first's row",
    );
    open();
    expect(await held).toMatchObject({ verdict: 'APPLIED' });
    expect(await racing).toEqual([expect.objectContaining({ verdict: 'APPLIED' })]);

    // What each release took from the receivable, and the chargeback recording all of it.
    expect([await recoveredBy(first, providerId), await recoveredBy(second, providerId)]).toEqual(
      recoveries,
    );
    const recoveredMinor = recoveries[0] + recoveries[1];
    expect(recoveredMinor).toBeLessThanOrEqual(receivableMinor);
    expect(await chargeback()).toEqual({
      receivable_minor: String(receivableMinor),
      recovered_minor: String(recoveredMinor),
    });
    const account = await ctx
      .db('accounts')
      .where({ code: `PROVIDER_RECEIVABLE:USD:${providerId}` })
      .first<{ balance_minor: string }>('balance_minor');
    expect(account.balance_minor).toBe(String(recoveredMinor - receivableMinor));
    // The second's first attempt was refused by its guard, not by the ledger, and retried.
    expect(retried).toEqual([
      expect.objectContaining({
        name: 'ChargebackMoved',
        code: 'CHARGEBACK_MOVED',
        retryable: true,
      }),
    ]);
  },
  60_000,
);
