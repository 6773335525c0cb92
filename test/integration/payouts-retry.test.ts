/**
 * `escrow-worker payouts retry` on real Postgres, against payouts made and
 * failed through the one path (applyEvent under the order's Redlock lock): a
 * failed payout asked for again is a new PAYOUT_REQUESTED in the outbox for
 * the same money under a new outcomeId, the failed request RETRIED and no
 * ledger movement; a second retry, a retry of a request not failed and two
 * operators racing are refused without writing anything; --dry-run writes
 * nothing; --provider and --all-failed select exactly the failed payouts
 * they name; the new request is then paid and the old one refused
 * INVALID_STATE. Once as a real process, connected as the worker's own
 * database role, with its outcome published by the real relay and decoded
 * from Kafka with the registry.
 */
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { retryCause } from '../../src/cli/retry-disbursement';
import { runRetry } from '../../src/cli/retry-command';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { outboundTopics } from '../../src/codec/schemas';
import { grantWorkerRole } from '../../src/db/grant-worker';
import { createKafka } from '../../src/kafka/client';
import { OutboxRelay } from '../../src/outbox/relay';
import { runCli } from '../support/cli';
import {
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  useContractPipeline,
} from '../support/contract-pipeline';
import { ledgerOf, outboxMark, outboxOf } from '../support/contract-rows';
import { collectMessages, createTopics } from '../support/kafka';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { settlement } from '../support/contract-pipeline';

const ctx = useTestContext();
const pipeline = useContractPipeline(ctx, new Date('2026-06-01T09:00:00Z'));

/** Opens, funds and releases a milestone (10 % fee), then the payout fails; returns the payout. */
async function failedPayout(orderId: string, providerId: string, amount = '1000.00') {
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', amount)], { providerId }));
  await pipeline.deliver(payment(orderId, 'm-1', amount, `ch-${orderId}`));
  const mark = await outboxMark(ctx.db, orderId);
  await pipeline.deliver(reached(orderId, 'm-1'));
  const [requested] = (await outboxOf(ctx.db, orderId, mark)).filter(
    (row) => row.type === 'PAYOUT_REQUESTED',
  );
  const outcomeId = requested!.payload.outcomeId as string;
  const failed = await pipeline.deliver(
    settlement('PAYOUT_FAILED', orderId, {
      outcomeId,
      gatewayReference: `tr-failed-${orderId}`,
      amount: requested!.payload.netAmount as string,
      reason: 'ACCOUNT_CLOSED',
    }),
  );
  expect(failed).toMatchObject({ verdict: 'APPLIED' });
  return { outcomeId, payload: requested!.payload };
}

/** The command in-process, as main.ts runs it, with this file's configuration. */
async function retry(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runRetry('PAYOUT', args, {
    config: () => ctx.config,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

interface RequestRow {
  outcome_id: string;
  state: string;
  root_outcome_id: string;
  retry_of: string | null;
  amount_minor: string;
  gross_minor: string;
  fee_minor: string;
  recovered_minor: string;
  party_id: string;
  failure_reason: string | null;
}

const request = (outcomeId: string) =>
  ctx
    .db('disbursements')
    .where({ outcome_id: outcomeId })
    .first<RequestRow>(
      'outcome_id',
      'state',
      'root_outcome_id',
      'retry_of',
      'amount_minor',
      'gross_minor',
      'fee_minor',
      'recovered_minor',
      'party_id',
      'failure_reason',
    );

/** Everything a retry could write: every request's state, the outbox and the ledger. */
async function written() {
  const count = async (table: string) =>
    Number((await ctx.db(table).count<{ n: string }[]>({ n: '*' }))[0]!.n);
  return {
    requests: await ctx.db('disbursements').orderBy('outcome_id').select('outcome_id', 'state'),
    outbox: await count('outbox'),
    ledgerEntries: await count('ledger_entries'),
  };
}

const stateOf = async (outcomeId: string) => (await request(outcomeId)).state;

test('a failed payout asked for again: a new PAYOUT_REQUESTED for the same money in the outbox, the failed one RETRIED, nothing in the ledger', async () => {
  const failed = await failedPayout('o-retry', 'p-retry');
  const ledgerBefore = await ledgerOf(ctx.db, 'o-retry');
  const mark = await outboxMark(ctx.db, 'o-retry');

  const result = await retry('retry', '--outcome', failed.outcomeId);
  expect(result).toMatchObject({ code: 0, stderr: '' });

  const added = await outboxOf(ctx.db, 'o-retry', mark);
  expect(added.map((row) => [row.type, row.topic])).toEqual([
    ['PAYOUT_REQUESTED', `${ctx.config.TOPIC_PREFIX}escrow.payouts.v1`],
  ]);
  const again = added[0]!.payload;
  const newId = again.outcomeId as string;
  expect(newId).not.toBe(failed.outcomeId);
  const { version } = await ctx
    .db('milestones')
    .where({ order_id: 'o-retry', milestone_id: 'm-1' })
    .first<{ version: number }>('version');
  // The same money, order, milestone, provider and ledger transaction; a new id, cause and time.
  expect(again).toEqual({
    ...failed.payload,
    outcomeId: newId,
    causeEventId: retryCause(failed.outcomeId),
    milestoneVersion: version,
    occurredAt: again.occurredAt,
  });
  expect(again).toMatchObject({
    grossAmount: '1000.00',
    feeAmount: '100.00',
    recoveredAmount: '0.00',
    netAmount: '900.00',
    providerId: 'p-retry',
  });
  const headers = await ctx
    .db('outbox')
    .where({ outcome_id: newId })
    .first<{ headers: Record<string, string> }>('headers');
  expect(headers.headers).toEqual({
    'outcome-id': newId,
    'cause-event-id': `retry:${failed.outcomeId}`,
  });

  expect(await request(failed.outcomeId)).toMatchObject({
    state: 'RETRIED',
    failure_reason: 'ACCOUNT_CLOSED',
    retry_of: null,
  });
  expect(await request(newId)).toEqual({
    outcome_id: newId,
    state: 'REQUESTED',
    root_outcome_id: failed.outcomeId,
    retry_of: failed.outcomeId,
    amount_minor: '90000',
    gross_minor: '100000',
    fee_minor: '10000',
    recovered_minor: '0',
    party_id: 'p-retry',
    failure_reason: null,
  });
  // No ledger movement: the money stays payable until the new request is paid.
  expect(await ledgerOf(ctx.db, 'o-retry')).toEqual(ledgerBefore);

  // The table names the failed request, the money and the new request.
  const lines = result.stdout.split('\n');
  expect(lines[0]).toMatch(
    /^failed payout +order +milestone +provider +currency +gross +fee +recovered +net +failed because +new request$/,
  );
  expect(lines[2]).toMatch(
    new RegExp(
      `^${failed.outcomeId} +o-retry +m-1 +p-retry +USD +1000\\.00 +100\\.00 +0\\.00 +900\\.00 +ACCOUNT_CLOSED +${newId}$`,
    ),
  );
  expect(lines[3]).toBe(
    '1 payout asked for again (PAYOUT_REQUESTED in the outbox; the failed one is RETRIED)',
  );
});

test('asked for again once: a second retry, or a retry of a request that has not failed, is refused and writes nothing; the new request is paid and the old one refused INVALID_STATE', async () => {
  const failed = await failedPayout('o-once', 'p-once');
  expect((await retry('retry', '--outcome', failed.outcomeId)).code).toBe(0);
  const newId = (
    await ctx
      .db('disbursements')
      .where({ retry_of: failed.outcomeId })
      .first<{ outcome_id: string }>('outcome_id')
  ).outcome_id;
  const before = await written();

  const second = await retry('retry', '--outcome', failed.outcomeId);
  expect(second.code).toBe(1);
  expect(second.stderr).toBe(
    `escrow-worker payouts retry: --outcome ${failed.outcomeId}: payout ${failed.outcomeId} was ` +
      `already retried as ${newId}, which is REQUESTED (waiting for its settlement); nothing to do\n`,
  );
  expect(second.stdout).toBe('no payout asked for again, 1 refused (why on stderr)\n');

  const open = await retry('retry', '--outcome', newId);
  expect(open.code).toBe(1);
  expect(open.stderr).toContain(
    `--outcome ${newId}: payout ${newId} is REQUESTED (asked for, not settled yet); only a FAILED ` +
      'request is asked for again. Wait for its PAYOUT_PAID or PAYOUT_FAILED',
  );
  expect(await written()).toEqual(before);

  // The new request settles the money; the old one's outcome is settled once already.
  const paid = await pipeline.deliver(
    settlement('PAYOUT_PAID', 'o-once', {
      outcomeId: newId,
      gatewayReference: 'tr-paid-o-once',
      amount: '900.00',
    }),
  );
  expect(paid).toMatchObject({ verdict: 'APPLIED', ledgerTransactions: 1 });
  expect(await stateOf(newId)).toBe('PAID');
  const payable = await ctx
    .db('accounts')
    .where({ code: 'PROVIDER_PAYABLE:USD:p-once' })
    .first<{ balance_minor: string }>('balance_minor');
  expect(payable.balance_minor).toBe('0');
  const old = await pipeline.deliver(
    settlement('PAYOUT_PAID', 'o-once', {
      outcomeId: failed.outcomeId,
      gatewayReference: 'tr-paid-old-o-once',
      amount: '900.00',
    }),
  );
  expect(old).toMatchObject({
    verdict: 'REJECTED',
    reason: 'INVALID_STATE',
    ledgerTransactions: 0,
  });
  expect(await stateOf(failed.outcomeId)).toBe('RETRIED');

  const afterPaid = await retry('retry', '--outcome', failed.outcomeId);
  expect(afterPaid.stderr).toContain(
    `was already retried as ${newId}, which is PAID; the money has left, nothing to do`,
  );
  const paidAgain = await retry('retry', '--outcome', newId);
  expect(paidAgain.stderr).toContain(
    `payout ${newId} is PAID (settled by stripe/tr-paid-o-once); only a FAILED request is asked ` +
      'for again, and this money has left already',
  );
});

test('two operators retrying one payout at once: exactly one new request, the other told which', async () => {
  const failed = await failedPayout('o-race', 'p-race');
  const before = await ctx.db('outbox').count<{ n: string }[]>({ n: '*' });
  // Both read the request FAILED, then wait on the order's lock, held here until both wait.
  const gate = await ctx.db.transaction();
  await gate.raw('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', ['o-race']);
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

  const retries = await ctx
    .db('disbursements')
    .where({ root_outcome_id: failed.outcomeId })
    .whereNot({ outcome_id: failed.outcomeId })
    .select<{ outcome_id: string; state: string }[]>('outcome_id', 'state');
  expect(retries).toHaveLength(1);
  expect(retries[0]!.state).toBe('REQUESTED');
  const after = await ctx.db('outbox').count<{ n: string }[]>({ n: '*' });
  expect(Number(after[0]!.n) - Number(before[0]!.n)).toBe(1);
  expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
  const loser = results.find((r) => r.code === 1)!;
  expect(loser.stderr).toContain(`already retried as ${retries[0]!.outcome_id}`);
  const winner = results.find((r) => r.code === 0)!;
  expect(winner.stdout).toContain(retries[0]!.outcome_id);
});

test('--dry-run prints what would be requested and writes nothing', async () => {
  const failed = await failedPayout('o-dry', 'p-dry', '250.00');
  const before = await written();
  const result = await retry('retry', '--outcome', failed.outcomeId, '--dry-run');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    new RegExp(
      `${failed.outcomeId} +o-dry +m-1 +p-dry +USD +250\\.00 +25\\.00 +0\\.00 +225\\.00 +ACCOUNT_CLOSED +dry run\\n`,
    ),
  );
  expect(result.stdout).toContain(
    'dry run: 1 payout would be asked for again; nothing was written',
  );
  expect(await written()).toEqual(before);
  expect(await stateOf(failed.outcomeId)).toBe('FAILED');
});

test('--provider retries the failed payouts of that provider only, --all-failed every failed payout and no refund', async () => {
  const mine = [await failedPayout('o-sel-1', 'p-sel'), await failedPayout('o-sel-2', 'p-sel')];
  const other = await failedPayout('o-sel-other', 'p-sel-other');
  // A payout of the same provider still requested, and a failed refund: neither is selected.
  await pipeline.deliver(
    openOrder('o-sel-open', [milestone('m-1', '100.00')], { providerId: 'p-sel' }),
  );
  await pipeline.deliver(payment('o-sel-open', 'm-1', '100.00', 'ch-o-sel-open'));
  await pipeline.deliver(reached('o-sel-open', 'm-1'));
  const refundId = await failedRefund('o-sel-refund');

  const byProvider = await retry('retry', '--provider', 'p-sel');
  expect(byProvider.code).toBe(0);
  expect(await Promise.all(mine.map((p) => stateOf(p.outcomeId)))).toEqual(['RETRIED', 'RETRIED']);
  expect(await stateOf(other.outcomeId)).toBe('FAILED');
  expect(byProvider.stdout).toContain('2 payouts asked for again');

  const nothingLeft = await retry('retry', '--provider', 'p-sel');
  expect(nothingLeft).toEqual({
    code: 0,
    stdout: 'nothing to retry: no payout to provider p-sel is FAILED\n',
    stderr: '',
  });
  const unknown = await retry('retry', '--provider', 'p-nobody');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toBe(
    'escrow-worker payouts retry: --provider p-nobody: no payout to provider p-nobody was ever ' +
      'requested; check the id (the providerId of the order)\n',
  );

  const stillFailed = await ctx
    .db('disbursements')
    .where({ kind: 'PAYOUT', state: 'FAILED' })
    .pluck<string[]>('outcome_id');
  expect(stillFailed).toContain(other.outcomeId);
  const all = await retry('retry', '--all-failed');
  expect(all.code).toBe(0);
  expect(all.stdout).toContain(
    `${stillFailed.length} payout${stillFailed.length === 1 ? '' : 's'} asked for again`,
  );
  expect(await Promise.all(stillFailed.map(stateOf))).toEqual(stillFailed.map(() => 'RETRIED'));
  expect(await stateOf(refundId)).toBe('FAILED');
  expect(await retry('retry', '--all-failed')).toMatchObject({
    code: 0,
    stdout: 'nothing to retry: no payout is FAILED\n',
  });
});

/** A refund requested and failed; returns its outcomeId. */
async function failedRefund(orderId: string): Promise<string> {
  await pipeline.deliver(openOrder(orderId, [milestone('m-1', '1000.00')]));
  await pipeline.deliver(payment(orderId, 'm-1', '1000.00', `ch-${orderId}`));
  const mark = await outboxMark(ctx.db, orderId);
  await pipeline.deliver(refund(orderId, 'm-1', '400.00'));
  const [requested] = (await outboxOf(ctx.db, orderId, mark)).filter(
    (row) => row.type === 'REFUND_REQUESTED',
  );
  const outcomeId = requested!.payload.outcomeId as string;
  await pipeline.deliver(
    settlement('REFUND_FAILED', orderId, {
      outcomeId,
      gatewayReference: `rf-failed-${orderId}`,
      amount: '400.00',
      reason: 'CARD_EXPIRED',
    }),
  );
  expect(await stateOf(outcomeId)).toBe('FAILED');
  return outcomeId;
}

test('bad input names the option, the rule and the fix', async () => {
  const unknownId = '0f3c2a9e-6b1d-4c8e-9a57-2d4e8b1c7f60';
  const unknown = await retry('retry', '--outcome', unknownId);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toBe(
    `escrow-worker payouts retry: --outcome ${unknownId}: no payout or refund was requested with ` +
      'this outcomeId. Give the outcomeId of the PAYOUT_REQUESTED that failed (the one its ' +
      'PAYOUT_FAILED settlement names); escrow-worker reconcile lists the failed requests not ' +
      'asked for again\n',
  );

  const refundId = await failedRefund('o-bad-refund');
  const wrongKind = await retry('retry', '--outcome', refundId.toUpperCase());
  expect(wrongKind.code).toBe(1);
  expect(wrongKind.stderr).toContain(
    `--outcome ${refundId} is a refund (to buyer buyer-o-bad-refund, order o-bad-refund), not a ` +
      `payout: payouts retry asks again for payouts only. Use escrow-worker refunds retry --outcome ${refundId}`,
  );
  expect(await stateOf(refundId)).toBe('FAILED');

  const usage = [
    [['retry'], 'payouts retry needs exactly one of --outcome ID, --provider ID or --all-failed'],
    [['retry', '--outcome', 'po-123'], '--outcome "po-123" is not an outcomeId: it is a UUID'],
    [
      ['retry', '--buyer', 'b-1'],
      '--buyer selects refunds (to a buyer); payouts go to a provider: give --provider ID',
    ],
    [['retry', '--all-failed', '--provider', 'p-1'], 'run one at a time'],
    [['again', '--all-failed'], 'unknown subcommand "again": payouts has retry'],
    [['retry', '--all-failed', '--force'], "Unknown option '--force'"],
  ] as const;
  for (const [args, message] of usage) {
    const result = await retry(...args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: escrow-worker payouts retry');
  }
});

describe('as a real process, connected as the worker role', () => {
  const role = `escrow_retry_${randomBytes(3).toString('hex')}`;
  let producer: Producer | undefined;
  let relay: OutboxRelay | undefined;
  ctx.beforeTeardown(async () => {
    await relay?.stop();
    await producer?.disconnect();
    await ctx.db.raw('DROP OWNED BY ??', [role]).catch(() => undefined);
    await ctx.db.raw('DROP ROLE IF EXISTS ??', [role]);
  });

  test('exit 0 with the table, exit 1 when asked again; the outcome published by the relay decodes as stored', async () => {
    await ctx.db.raw('CREATE ROLE ?? LOGIN', [role]);
    await grantWorkerRole(ctx.db, role);
    const url = new URL(ctx.config.DATABASE_URL);
    url.username = role;
    url.password = '';
    const env = {
      ...process.env,
      DATABASE_URL: url.toString(),
      TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
      LOG_LEVEL: 'warn',
    };
    const failed = await failedPayout('o-process', 'p-process');

    const first = await runCli(['payouts', 'retry', '--outcome', failed.outcomeId], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const newId = (
      await ctx
        .db('disbursements')
        .where({ retry_of: failed.outcomeId })
        .first<{ outcome_id: string }>('outcome_id')
    ).outcome_id;
    expect(first.stdout).toContain(`ACCOUNT_CLOSED  ${newId}\n`);
    expect(first.stdout).toContain('1 payout asked for again');

    const second = await runCli(['payouts', 'retry', '--outcome', failed.outcomeId], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`already retried as ${newId}`);
    const usage = await runCli(['payouts', 'retry'], env);
    expect(usage.code).toBe(2);

    const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
    await codec.registerSchemas(outboundTopics);
    const kafka = createKafka(ctx.config);
    await createTopics(
      kafka,
      outboundTopics.map((name) => `${ctx.config.TOPIC_PREFIX}${name}`),
    );
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    relay = new OutboxRelay(ctx.db, producer, codec, {
      databaseUrl: ctx.config.DATABASE_URL,
      topicPrefix: ctx.config.TOPIC_PREFIX,
      pollIntervalMs: 200,
    });
    relay.start();
    const payoutsTopic = `${ctx.config.TOPIC_PREFIX}escrow.payouts.v1`;
    const isNew = (r: { message: { headers?: Record<string, unknown> } }) =>
      String(r.message.headers?.['outcome-id']) === newId;
    const received = await collectMessages(
      kafka,
      `${ctx.config.CONSUMER_GROUP}-retry`,
      [payoutsTopic],
      (all) => all.some(isNew),
    );
    const message = received.find(isNew)!;
    expect(message.message.key?.toString()).toBe('o-process');
    const stored = await ctx
      .db('outbox')
      .where({ outcome_id: newId })
      .first<{ payload: Record<string, unknown> }>('payload');
    expect(await codec.decode('escrow.payouts.v1', message.message.value)).toEqual({
      ok: true,
      value: stored.payload,
    });
    await waitUntil(
      async () =>
        (
          await ctx
            .db('outbox')
            .where({ outcome_id: newId })
            .first<{ published_at: Date | null }>('published_at')
        ).published_at !== null,
      10_000,
      'the new request marked published',
    );
  });
});
