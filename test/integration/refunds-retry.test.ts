/**
 * `escrow-worker refunds retry` on real Postgres, against refunds requested
 * and failed through the one path (applyEvent under the order's Redlock
 * lock): a failed refund asked for again is a new REFUND_REQUESTED for the
 * same money, reason and gateway references under a new outcomeId, the failed
 * request RETRIED and no ledger movement; asked again, raced by two
 * operators, given a payout's outcomeId or --provider it refuses and writes
 * nothing; --dry-run writes nothing; --buyer and --all-failed select exactly
 * the failed refunds they name. The new request is paid and the old one
 * refused INVALID_STATE. With the failed request's outbox row pruned, the
 * gateway references are rebuilt from the milestone's payments or from the
 * refund's ledger transaction, and the command says so.
 */
import { retryCause } from '../../src/cli/retry-disbursement';
import { runRetry } from '../../src/cli/retry-command';
import { runCli } from '../support/cli';
import {
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  useContractPipeline,
} from '../support/contract-pipeline';
import { ledgerOf, outboxMark, outboxOf, type OutboxRow } from '../support/contract-rows';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { settlement } from '../support/contract-pipeline';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

/** The REFUND_REQUESTED outcomes a step adds to the order's outbox. */
async function refundsAskedBy(orderId: string, step: () => Promise<unknown>): Promise<OutboxRow[]> {
  const mark = await outboxMark(ctx.db, orderId);
  await step();
  return (await outboxOf(ctx.db, orderId, mark)).filter((row) => row.type === 'REFUND_REQUESTED');
}

async function failRefund(orderId: string, requested: OutboxRow) {
  const outcomeId = requested.payload.outcomeId as string;
  const failed = await pipeline.deliver(
    settlement('REFUND_FAILED', orderId, {
      outcomeId,
      gatewayReference: `rf-failed-${outcomeId}`,
      amount: requested.payload.amount as string,
      reason: 'CARD_EXPIRED',
    }),
  );
  expect(failed).toMatchObject({ verdict: 'APPLIED' });
  return { outcomeId, payload: requested.payload };
}

/** 1000.00 funded by a deposit and an installment, 400.00 refunded on request, the refund failed. */
async function failedRefund(orderId: string) {
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', '1000.00')]));
  await pipeline.deliver(payment(orderId, 'm-1', '600.00', `ch-${orderId}-a`));
  await pipeline.deliver(
    payment(orderId, 'm-1', '400.00', `ch-${orderId}-b`, { kind: 'INSTALLMENT' }),
  );
  const [requested] = await refundsAskedBy(orderId, () =>
    pipeline.deliver(refund(orderId, 'm-1', '400.00')),
  );
  return failRefund(orderId, requested!);
}

async function retry(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runRetry('REFUND', args, {
    config: () => ctx.config,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

const stateOf = async (outcomeId: string) =>
  (await ctx.db('disbursements').where({ outcome_id: outcomeId }).first<{ state: string }>('state'))
    .state;

const replacementOf = async (outcomeId: string) =>
  (
    await ctx
      .db('disbursements')
      .where({ retry_of: outcomeId })
      .first<{ outcome_id: string; root_outcome_id: string; state: string; amount_minor: string }>(
        'outcome_id',
        'root_outcome_id',
        'state',
        'amount_minor',
      )
  )?.outcome_id;

async function written() {
  const count = async (table: string) =>
    Number((await ctx.db(table).count<{ n: string }[]>({ n: '*' }))[0]!.n);
  return {
    requests: await ctx.db('disbursements').orderBy('outcome_id').select('outcome_id', 'state'),
    outbox: await count('outbox'),
    ledgerEntries: await count('ledger_entries'),
  };
}

test('a failed refund asked for again: the same money, reason and references under a new outcomeId; the new one paid, the old one refused INVALID_STATE', async () => {
  const failed = await failedRefund('o-refund');
  expect(failed.payload).toMatchObject({
    amount: '400.00',
    reason: 'REQUESTED',
    gatewayReferences: ['ch-o-refund-a', 'ch-o-refund-b'],
  });
  const ledgerBefore = await ledgerOf(ctx.db, 'o-refund');
  const [again] = await refundsAskedBy('o-refund', async () => {
    const result = await retry('retry', '--outcome', failed.outcomeId);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^failed refund +order +milestone +buyer +currency +amount +reason +gateway references +failed because +new request$/,
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${failed.outcomeId} +o-refund +m-1 +buyer-o-refund +USD +400\\.00 +REQUESTED +ch-o-refund-a, ch-o-refund-b +CARD_EXPIRED +[0-9a-f-]{36}$`,
      ),
    );
    expect(lines[3]).toBe(
      '1 refund asked for again (REFUND_REQUESTED in the outbox; the failed one is RETRIED)',
    );
  });
  const newId = again!.payload.outcomeId as string;
  expect(newId).toBe(await replacementOf(failed.outcomeId));
  expect(again!.payload).toEqual({
    ...failed.payload,
    outcomeId: newId,
    causeEventId: retryCause(failed.outcomeId),
    milestoneVersion: again!.payload.milestoneVersion,
    occurredAt: again!.payload.occurredAt,
  });
  expect(await stateOf(failed.outcomeId)).toBe('RETRIED');
  expect(
    await ctx
      .db('disbursements')
      .where({ outcome_id: newId })
      .first('state', 'root_outcome_id', 'retry_of', 'amount_minor', 'party_id', 'refund_reason'),
  ).toEqual({
    state: 'REQUESTED',
    root_outcome_id: failed.outcomeId,
    retry_of: failed.outcomeId,
    amount_minor: '40000',
    party_id: 'buyer-o-refund',
    refund_reason: 'REQUESTED',
  });
  expect(await ledgerOf(ctx.db, 'o-refund')).toEqual(ledgerBefore);

  const paid = await pipeline.deliver(
    settlement('REFUND_PAID', 'o-refund', {
      outcomeId: newId,
      gatewayReference: 'rf-paid-o-refund',
      amount: '400.00',
    }),
  );
  expect(paid).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 1 });
  const old = await pipeline.deliver(
    settlement('REFUND_PAID', 'o-refund', {
      outcomeId: failed.outcomeId,
      gatewayReference: 'rf-paid-old-o-refund',
      amount: '400.00',
    }),
  );
  expect(old).toMatchObject({
    verdict: 'REJECTED',
    reason: 'INVALID_STATE',
    ledgerTransactions: 0,
  });
  const payable = await ctx
    .db('accounts')
    .where({ code: 'BUYER_REFUND_PAYABLE:USD:buyer-o-refund' })
    .first<{ balance_minor: string }>('balance_minor');
  expect(payable.balance_minor).toBe('0');
});

test('asked for again once, even by two operators at once; --dry-run writes nothing', async () => {
  const failed = await failedRefund('o-refund-race');
  const dry = await retry('retry', '--outcome', failed.outcomeId, '--dry-run');
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('CARD_EXPIRED    dry run\n');
  expect(dry.stdout).toContain('dry run: 1 refund would be asked for again; nothing was written');
  const before = await written();
  expect(await stateOf(failed.outcomeId)).toBe('FAILED');

  const gate = await ctx.db.transaction();
  await gate.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', ['o-refund-race']);
  const racing = Promise.all([
    retry('retry', '--outcome', failed.outcomeId),
    retry('retry', '--outcome', failed.outcomeId),
  ]);
  await waitUntil(
    async () => {
      const { rows } = await ctx.db.raw<{ rows: { waiting: number }[] }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      );
      return rows[0]!.waiting === 2;
    },
    15_000,
    'both retries waiting on the order lock',
  );
  await gate.commit();
  const results = await racing;
  const newId = await replacementOf(failed.outcomeId);
  expect(results.map((result) => result.code).sort()).toEqual([0, 1]);
  expect(results.find((result) => result.code === 1)!.stderr).toBe(
    `escrow-worker refunds retry: --outcome ${failed.outcomeId}: refund ${failed.outcomeId} was ` +
      `already retried as ${newId}, which is REQUESTED (waiting for its settlement); nothing to do\n`,
  );
  const after = await written();
  expect(after.outbox - before.outbox).toBe(1);
  expect(after.requests).toHaveLength(before.requests.length + 1);
  expect(after.ledgerEntries).toBe(before.ledgerEntries);

  const again = await retry('retry', '--outcome', failed.outcomeId);
  expect(again.code).toBe(1);
  expect(await written()).toEqual(after);
});

test('--buyer and --all-failed select failed refunds only; a payout id or --provider is refused', async () => {
  // Each order has a buyer of its own (buyer-<orderId>).
  const mine = await failedRefund('o-buyer-1');
  const other = await failedRefund('o-buyer-2');
  await pipeline.deliver(openOrder('o-paid-out', [milestone('m-1', '100.00')]));
  await pipeline.deliver(payment('o-paid-out', 'm-1', '100.00', 'ch-o-paid-out'));
  const mark = await outboxMark(ctx.db, 'o-paid-out');
  await pipeline.deliver(reached('o-paid-out', 'm-1'));
  const payout = (await outboxOf(ctx.db, 'o-paid-out', mark)).find(
    (row) => row.type === 'PAYOUT_REQUESTED',
  )!;
  const payoutId = payout.payload.outcomeId as string;
  await pipeline.deliver(
    settlement('PAYOUT_FAILED', 'o-paid-out', {
      outcomeId: payoutId,
      gatewayReference: 'tr-failed-o-paid-out',
      amount: '90.00',
      reason: 'ACCOUNT_CLOSED',
    }),
  );

  const byBuyer = await retry('retry', '--buyer', 'buyer-o-buyer-1');
  expect(byBuyer.code).toBe(0);
  expect(byBuyer.stdout).toContain('1 refund asked for again');
  expect(await stateOf(mine.outcomeId)).toBe('RETRIED');
  expect(await stateOf(other.outcomeId)).toBe('FAILED');

  const wrongKind = await retry('retry', '--outcome', payoutId);
  expect(wrongKind.code).toBe(1);
  expect(wrongKind.stderr).toBe(
    `escrow-worker refunds retry: --outcome ${payoutId} is a payout (to provider ` +
      `provider-o-paid-out, order o-paid-out), not a refund: refunds retry asks again for refunds ` +
      `only. Use escrow-worker payouts retry --outcome ${payoutId}\n`,
  );
  const provider = await retry('retry', '--provider', 'provider-o-paid-out');
  expect(provider.code).toBe(2);
  expect(provider.stderr).toContain(
    '--provider selects payouts (to a provider); refunds go to a buyer: give --buyer ID',
  );

  const failedRefunds = await ctx
    .db('disbursements')
    .where({ kind: 'REFUND', state: 'FAILED' })
    .pluck<string[]>('outcome_id');
  expect(failedRefunds).toContain(other.outcomeId);
  const all = await retry('retry', '--all-failed');
  expect(all.code).toBe(0);
  expect(await Promise.all(failedRefunds.map(stateOf))).toEqual(failedRefunds.map(() => 'RETRIED'));
  expect(await stateOf(payoutId)).toBe('FAILED');
});

test('with the failed request pruned from the outbox, the references are rebuilt from the payments or the ledger, and said so', async () => {
  const prune = (outcomeId: string) => ctx.db('outbox').where({ outcome_id: outcomeId }).delete();

  const onRequest = await failedRefund('o-pruned');
  await prune(onRequest.outcomeId);
  const [fromPayments] = await refundsAskedBy('o-pruned', async () => {
    const result = await retry('retry', '--outcome', onRequest.outcomeId);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `note: the gateway references of refund ${onRequest.outcomeId} were rebuilt from its ` +
        "milestone's applied payments (its REFUND_REQUESTED is no longer in the outbox)",
    );
  });
  expect(fromPayments!.payload.gatewayReferences).toEqual(['ch-o-pruned-a', 'ch-o-pruned-b']);

  // 1200.00 paid for 1000.00: 200.00 back to the buyer, naming the payment that overpaid.
  await pipeline.deliver(openOrder('o-over', [milestone('m-1', '1000.00')]));
  await pipeline.deliver(payment('o-over', 'm-1', '400.00', 'ch-o-over-a'));
  const [overpaid] = await refundsAskedBy('o-over', () =>
    pipeline.deliver(payment('o-over', 'm-1', '800.00', 'ch-o-over-b')),
  );
  expect(overpaid!.payload).toMatchObject({
    amount: '200.00',
    reason: 'OVERPAYMENT',
    gatewayReferences: ['ch-o-over-b'],
  });
  const failed = await failRefund('o-over', overpaid!);
  await prune(failed.outcomeId);
  const [fromLedger] = await refundsAskedBy('o-over', async () => {
    const result = await retry('retry', '--outcome', failed.outcomeId);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('were rebuilt from its ledger transaction');
  });
  expect(fromLedger!.payload).toMatchObject({
    amount: '200.00',
    reason: 'OVERPAYMENT',
    gatewayReferences: ['ch-o-over-b'],
  });
});

test('as a real process: the dry run prints the table, exits 0 and writes nothing', async () => {
  const failed = await failedRefund('o-refund-process');
  const env = {
    ...process.env,
    DATABASE_URL: ctx.config.DATABASE_URL,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
    LOG_LEVEL: 'warn',
  };
  const before = await written();
  const dry = await runCli(
    ['refunds', 'retry', '--buyer', 'buyer-o-refund-process', '--dry-run'],
    env,
  );
  expect(dry).toMatchObject({ code: 0, stderr: '' });
  expect(dry.stdout).toContain(`${failed.outcomeId}  o-refund-process`);
  expect(dry.stdout).toContain('dry run: 1 refund would be asked for again; nothing was written');
  expect(await written()).toEqual(before);
});
