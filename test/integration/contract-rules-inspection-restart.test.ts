/**
 * The inspection clock across a worker restart, through Kafka with real
 * worker processes (npm start's entry point), registry, Postgres and Redis:
 * a dispute opened during the inspection period pauses the clock (the time
 * left is stored, the deadline cleared); the worker stops; the original
 * deadline passes with no worker running; a new worker process starts; the
 * dispute is withdrawn and the clock resumes with exactly the time left it
 * read from storage; the new worker's timer releases at that resumed deadline
 * (not at the original one, and not with a fresh full period), and the
 * payout it publishes carries the exact gross, fee and net.
 */
import type { Knex } from 'knex';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { type InboundTopic, inboundTopics, outboundTopics } from '../../src/codec/schemas';
import { createKafka } from '../../src/kafka/client';
import {
  balances,
  balancesOf,
  ledgerOf,
  milestoneRow,
  outboxOf,
  outcome,
  posted,
} from '../support/contract-rows';
import { collectMessages, createTopics } from '../support/kafka';
import { validMessages } from '../support/messages';
import { randomOpsPort } from '../support/ops-port';
import { useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

const ctx = useTestContext({ OPS_PORT: String(randomOpsPort()) });
const running: WorkerProcess[] = [];
ctx.beforeTeardown(async () => {
  for (const worker of running) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  }
});

const orderId = 'o-restart';
const inspectionPeriodMs = 12_000;

async function startWorker(): Promise<WorkerProcess> {
  const worker = spawnWorker(ctx.config);
  running.push(worker);
  await waitUntil(
    () => worker.output().includes('escrow-worker started'),
    60_000,
    'the worker process starting',
  );
  return worker;
}

async function stopWorker(worker: WorkerProcess) {
  worker.child.kill('SIGTERM');
  expect(await worker.exited).toEqual({ code: 0, signal: null });
}

/** Waits for the milestone row to satisfy `check`, and returns it. */
async function waitForMilestone(
  db: Knex,
  what: string,
  check: (row: Awaited<ReturnType<typeof milestoneRow>>) => boolean,
) {
  let row: Awaited<ReturnType<typeof milestoneRow>> | undefined;
  await waitUntil(
    async () => {
      const stored = await db('milestones')
        .where({ order_id: orderId })
        .first<{ order_id: string } | undefined>('order_id');
      if (stored === undefined) return false;
      row = await milestoneRow(db, orderId, 'm-1');
      return check(row);
    },
    30_000,
    what,
  );
  return row!;
}

/** When the decision that published the order's outcome of `type` was taken (its clock reading). */
async function decidedAt(type: string): Promise<Date> {
  const row = (await outboxOf(ctx.db, orderId)).find((r) => r.type === type);
  if (!row) throw new Error(`no ${type} outcome for ${orderId}`);
  return new Date(String(row.payload.occurredAt));
}

test('paused by a dispute, worker restarted, resumed with the time left from storage and released then', async () => {
  const kafka = createKafka(ctx.config, 'inspection-restart-test');
  const codec = new RegistryCodec(ctx.config.SCHEMA_REGISTRY_URL, ctx.config.TOPIC_PREFIX);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  await createTopics(
    kafka,
    [...inboundTopics, ...outboundTopics].map((topic) => `${ctx.config.TOPIC_PREFIX}${topic}`),
  );
  const producer = kafka.producer();
  await producer.connect();
  const send = async (topic: InboundTopic, message: Record<string, unknown>) =>
    producer.send({
      topic: `${ctx.config.TOPIC_PREFIX}${topic}`,
      messages: [{ key: orderId, value: await codec.encode(topic, message) }],
    });
  const disputeMessage = (type: 'OPENED' | 'WITHDRAWN') => ({
    eventId: `dispute-${type}`,
    type,
    orderId,
    milestoneId: 'm-1',
    disputeId: 'd-restart',
    openedBy: type === 'OPENED' ? 'buyer-1' : null,
    reason: type === 'OPENED' ? 'not as described' : null,
    resolution: null,
    actor: null,
    expectedVersion: null,
    occurredAt: new Date().toISOString(),
  });

  try {
    const first = await startWorker();
    const [opened] = validMessages['escrow.orders.v1'];
    await send('escrow.orders.v1', {
      ...opened,
      orderId,
      milestones: [{ ...opened.milestones[0], inspectionPeriodSeconds: inspectionPeriodMs / 1000 }],
    });
    // Topics race: each step is sent once the one before it is applied.
    await waitForMilestone(ctx.db, 'the order opening', (row) => row.version === 1);
    await send('escrow.payment-confirmed.v1', {
      ...validMessages['escrow.payment-confirmed.v1'][0],
      orderId,
      gatewayReference: 'ch-restart',
      eventId: 'pay-restart',
    });
    await waitForMilestone(ctx.db, 'the milestone funded', (row) => row.state === 'FUNDED');
    await send('escrow.milestone-reached.v1', {
      ...validMessages['escrow.milestone-reached.v1'][0],
      orderId,
      eventId: 'reached-restart',
      finalAmount: null,
    });
    const awaiting = await waitForMilestone(
      ctx.db,
      'the milestone reached',
      (row) => row.state === 'AWAITING_RELEASE',
    );
    const originalDeadline = awaiting.inspection_deadline!;
    expect(originalDeadline.getTime() - (await decidedAt('MILESTONE_REACHED')).getTime()).toBe(
      inspectionPeriodMs,
    );

    await send('escrow.disputes.v1', disputeMessage('OPENED'));
    const paused = await waitForMilestone(
      ctx.db,
      'the dispute opening',
      (row) => row.state === 'DISPUTED',
    );
    const left = originalDeadline.getTime() - (await decidedAt('DISPUTE_OPENED')).getTime();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(inspectionPeriodMs);
    expect(paused).toMatchObject({
      inspection_deadline: null,
      inspection_remaining_ms: String(left),
      disputed_minor: '100000',
      held_minor: '0',
    });

    await stopWorker(first);
    // The original deadline passes while no worker runs; the new one starts after it.
    await waitUntil(
      () => Date.now() > originalDeadline.getTime() + 500,
      inspectionPeriodMs + 5000,
      'the original inspection deadline passing',
    );
    await startWorker();
    expect((await balancesOf(ctx.db, orderId, 'm-1')).state).toBe('DISPUTED');

    await send('escrow.disputes.v1', disputeMessage('WITHDRAWN'));
    const resumed = await waitForMilestone(
      ctx.db,
      'the dispute withdrawn',
      (row) => row.dispute_id === null,
    );
    const withdrawnAt = await decidedAt('DISPUTE_WITHDRAWN');
    const resumedDeadline = new Date(withdrawnAt.getTime() + left);
    // Either still waiting at the resumed deadline, or released there already.
    if (resumed.state === 'AWAITING_RELEASE') {
      expect(resumed).toMatchObject({
        inspection_deadline: resumedDeadline,
        inspection_remaining_ms: null,
      });
    }
    const withdrawn = (await outboxOf(ctx.db, orderId)).find(
      (row) => row.type === 'DISPUTE_WITHDRAWN',
    )!;
    expect(outcome(withdrawn)).toEqual({
      type: 'DISPUTE_WITHDRAWN',
      milestoneId: 'm-1',
      milestoneVersion: 5,
      state: 'AWAITING_RELEASE',
    });
    expect(withdrawn.payload).toMatchObject({
      held: '1000.00',
      disputed: '0.00',
      released: '0.00',
    });

    await waitForMilestone(
      ctx.db,
      'the release at the resumed deadline',
      (row) => row.state === 'RELEASED',
    );
    expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
      balances('RELEASED', 6, {
        amount: '100000',
        funded: '100000',
        released: '100000',
        fees: '10000',
      }),
    );
    const releasedAt = await decidedAt('MILESTONE_RELEASED');
    expect(releasedAt.getTime()).toBeGreaterThanOrEqual(resumedDeadline.getTime());
    const cause = `inspection:${orderId}:m-1:${resumedDeadline.toISOString()}`;
    expect(
      (await ledgerOf(ctx.db, orderId)).filter((tx) => tx.kind === 'RELEASE').map(posted),
    ).toEqual([
      {
        kind: 'RELEASE',
        milestoneId: 'm-1',
        cause,
        entries: {
          [`ESCROW_HOLD:USD:${orderId}:m-1`]: '-100000',
          'PROVIDER_PAYABLE:USD:provider-1': '90000',
          'PLATFORM_REVENUE:USD': '10000',
        },
      },
    ]);
    const payouts = (await outboxOf(ctx.db, orderId)).filter(
      (row) => row.type === 'PAYOUT_REQUESTED',
    );
    expect(payouts.map(outcome)).toEqual([
      {
        type: 'PAYOUT_REQUESTED',
        milestoneId: 'm-1',
        milestoneVersion: 6,
        currency: 'USD',
        gross: '1000.00',
        fee: '100.00',
        net: '900.00',
      },
    ]);
    expect(payouts[0]!.payload.causeEventId).toBe(cause);

    // Published by the restarted worker's relay, with the outcome id it was committed with.
    const received = await collectMessages(
      kafka,
      `${ctx.config.CONSUMER_GROUP}-payouts-check`,
      [`${ctx.config.TOPIC_PREFIX}escrow.payouts.v1`],
      (all) => all.some((r) => r.message.key?.toString() === orderId),
      30_000,
    );
    const published = received.find((r) => r.message.key?.toString() === orderId)!;
    expect(published.message.headers?.['outcome-id']?.toString()).toBe(
      payouts[0]!.payload.outcomeId,
    );
    expect(await codec.decode('escrow.payouts.v1', published.message.value)).toMatchObject({
      ok: true,
      value: {
        grossAmount: '1000.00',
        feeAmount: '100.00',
        netAmount: '900.00',
        causeEventId: cause,
      },
    });
  } finally {
    await producer.disconnect();
  }
}, 150_000);
