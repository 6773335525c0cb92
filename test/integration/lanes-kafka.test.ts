/**
 * Lanes against the real broker, registry, Postgres and Redis, with workers
 * in-process in one consumer group. Members joining and leaving mid-stream
 * always hold whole lanes (partition i of every inbound topic on one member)
 * under the EscrowLanes assignor, as the group coordinator stores them, and
 * every payment funds once. A producer that scatters an order's events over
 * partitions, and so over lanes and members, changes nothing of what the
 * orders end with. Inbound topics with unequal partition counts stop the
 * start; a missing inbound topic is created with the count the others share.
 */
import {
  type Admin,
  type ICustomPartitioner,
  type Kafka,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { seededRandom } from '../../src/bench/random';
import { RegistryCodec } from '../../src/codec/registry-codec';
import { inboundTopics, outboundTopics } from '../../src/codec/schemas';
import type { Config } from '../../src/config';
import { createKafka, createProducer } from '../../src/kafka/client';
import { DEFAULT_PARTITIONS } from '../../src/kafka/topics';
import { createLogger } from '../../src/logging/logger';
import { runReconciliation } from '../../src/reconcile';
import { type RunningWorker, startWorker } from '../../src/worker';
import {
  balances,
  balancesOf,
  ledgerOf,
  outboxOf,
  outcome,
  posted,
} from '../support/contract-rows';
import {
  describeAssignment,
  expectWholeLanes,
  stableAssignment,
  waitUntilCommitted,
} from '../support/group-lanes';
import {
  opened,
  type Outgoing,
  paid,
  reached,
  refundAsked,
  sendInbound,
  twice,
} from '../support/inbound-stream';
import { randomOpsPort } from '../support/ops-port';
import { type TestContext, useTestContext } from '../support/test-context';
import { waitUntil } from '../support/wait';
import { failingChecks } from './reconciliation-corruption';

const basePort = randomOpsPort();
const log = createLogger({ LOG_LEVEL: 'silent' });
const sleep = (durationMs: number) => new Promise((resolve) => setTimeout(resolve, durationMs));
const range = (count: number) => Array.from({ length: count }, (_, index) => index);

/** In-process workers of one context, each on its own operations port; the running ones stop at teardown. */
function useWorkers(ctx: TestContext, firstPort: number) {
  const running = new Map<string, RunningWorker>();
  let nextPort = firstPort;
  ctx.beforeTeardown(async () => {
    for (const worker of running.values()) await worker.stop().catch(() => undefined);
  });
  return {
    async start(name: string, overrides: Partial<Config> = {}): Promise<void> {
      const config = { ...ctx.config, OPS_PORT: nextPort++, ...overrides };
      running.set(name, await startWorker(config, log));
    },
    async stop(name: string): Promise<void> {
      await running.get(name)!.stop();
      running.delete(name);
    },
  };
}

interface Clients {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly codec: RegistryCodec;
  readonly topic: (name: string) => string;
  readonly send: (producer: Producer, outgoing: readonly Outgoing[]) => Promise<void>;
}

async function connect(ctx: TestContext): Promise<Clients> {
  const kafka = createKafka(ctx.config, 'lanes-kafka-test');
  const admin = kafka.admin();
  await admin.connect();
  ctx.beforeTeardown(() => admin.disconnect());
  const codec = RegistryCodec.fromConfig(ctx.config);
  await codec.registerSchemas([...inboundTopics, ...outboundTopics]);
  const prefix = ctx.config.TOPIC_PREFIX;
  return {
    kafka,
    admin,
    codec,
    topic: (name) => `${prefix}${name}`,
    send: (producer, outgoing) => sendInbound(producer, codec, prefix, outgoing),
  };
}

describe('members joining and leaving', () => {
  const ctx = useTestContext();
  const workers = useWorkers(ctx, basePort);

  test('after every change each lane is whole on one member, and every payment funds once', async () => {
    const partitions = 4;
    const orders = range(24).map((index) => `o-${String(index).padStart(2, '0')}`);
    const clients = await connect(ctx);
    const { admin, topic } = clients;
    const inbound = inboundTopics.map(topic);
    const groupId = ctx.config.CONSUMER_GROUP;
    await admin.createTopics({
      topics: inbound.map((name) => ({ topic: name, numPartitions: partitions })),
      waitForLeaders: true,
    });
    const producer = createProducer(clients.kafka);
    await producer.connect();
    await clients.send(
      producer,
      orders.map((orderId) => opened(orderId, [['m-1', '10000.00']])),
    );

    // The stream: each round one payment of 1.00 per order, every one delivered twice.
    let rounds = 0;
    let flowing = true;
    const stream = (async () => {
      while (flowing) {
        const round = rounds;
        await clients.send(
          producer,
          twice(orders.map((orderId) => paid(orderId, 'm-1', '1.00', `${orderId}-${round}`))),
        );
        rounds += 1;
        await sleep(150);
      }
    })();
    const fundedMinor = async () => {
      const [row] = await ctx.db('milestones').sum<{ total: string | null }[]>({
        total: 'funded_minor',
      });
      return BigInt(row?.total ?? 0);
    };
    /** After a change: the group Stable, whole lanes, and the stream still being applied. */
    const settled = async (members: number) => {
      const group = await stableAssignment(admin, groupId, members, 30_000);
      expectWholeLanes(group, inbound, partitions);
      const before = await fundedMinor();
      await waitUntil(async () => (await fundedMinor()) > before, 20_000, 'more payments applied');
      return [...group.members.keys()].sort();
    };

    try {
      await workers.start('A');
      const [a] = await settled(1);
      await workers.start('B');
      const withB = await settled(2);
      const b = withB.find((id) => id !== a)!;
      expect(withB).toEqual([a, b].sort());
      await workers.start('C');
      const withC = await settled(3);
      const c = withC.find((id) => id !== a && id !== b)!;
      expect(withC).toEqual([a, b, c].sort());
      await workers.stop('A');
      expect(await settled(2)).toEqual([b, c].sort());
      await workers.stop('B');
      expect(await settled(1)).toEqual([c]);
    } finally {
      flowing = false;
      await stream;
      await producer.disconnect();
    }

    await waitUntilCommitted(admin, groupId, inbound, 60_000);
    const milestones = await ctx
      .db('milestones')
      .select('order_id', 'funded_minor', 'held_minor', 'version')
      .orderBy('order_id');
    expect(milestones).toEqual(
      orders.map((orderId) => ({
        order_id: orderId,
        funded_minor: String(rounds * 100),
        held_minor: String(rounds * 100),
        version: 1 + rounds,
      })),
    );
    const fundings = await ctx
      .db('ledger_transactions')
      .where({ kind: 'FUNDING' })
      .count<{ n: string }[]>({ n: '*' });
    expect(fundings).toEqual([{ n: String(orders.length * rounds) }]);
    const paymentsInInbox = await ctx
      .db('inbox')
      .where('dedupe_key', 'like', 'payment:%')
      .count<{ n: string }[]>({ n: '*' });
    expect(paymentsInInbox).toEqual([{ n: String(orders.length * rounds) }]);
    const deadLetters = await admin.fetchTopicOffsets(topic('escrow.dlq.v1'));
    expect(deadLetters.map((partition) => partition.high)).toEqual(deadLetters.map(() => '0'));
    expect(failingChecks(await runReconciliation(ctx.db))).toEqual([]);
  }, 110_000);
});

// ---- another partitioner ----

interface Placement {
  readonly orderId: string;
  readonly partition: number;
  /** Where KafkaJS's default partitioner (murmur2 of the key) would have put it. */
  readonly keyed: number;
}

/** Each message on a partition drawn from a seeded sequence, whatever its key; each placement recorded. */
function scatteringPartitioner(placements: Placement[]): ICustomPartitioner {
  const random = seededRandom('lanes-kafka: scattered');
  const keyed = Partitioners.DefaultPartitioner();
  return () => (args) => {
    const { partitionId } =
      args.partitionMetadata[Math.floor(random.next() * args.partitionMetadata.length)]!;
    placements.push({
      orderId: String(args.message.key),
      partition: partitionId,
      keyed: keyed(args),
    });
    return partitionId;
  };
}

/** An order's milestones, ledger and outcomes, with its own id (and its parties') written as <order>. */
async function shapeOf(ctx: TestContext, orderId: string) {
  const plain = (value: unknown) =>
    JSON.stringify(value)
      .replaceAll(encodeURIComponent(orderId), '<order>')
      .replaceAll(orderId, '<order>');
  return {
    milestones: [
      await balancesOf(ctx.db, orderId, 'm-1'),
      await balancesOf(ctx.db, orderId, 'm-2'),
    ],
    ledger: (await ledgerOf(ctx.db, orderId)).map((tx) => plain(posted(tx))).sort(),
    outcomes: (await outboxOf(ctx.db, orderId)).map((row) => plain(outcome(row))).sort(),
  };
}

describe('a producer with another partitioner', () => {
  const ctx = useTestContext();
  const workers = useWorkers(ctx, basePort + 3);

  test('scattered over lanes and members, every order ends as with the default partitioner', async () => {
    const clients = await connect(ctx);
    const { admin, topic } = clients;
    const inbound = inboundTopics.map(topic);
    const groupId = ctx.config.CONSUMER_GROUP;
    // The workers create the topics, DEFAULT_PARTITIONS each.
    await workers.start('A');
    await workers.start('B');
    const laneHolder = expectWholeLanes(
      await stableAssignment(admin, groupId, 2, 30_000),
      inbound,
      DEFAULT_PARTITIONS,
    );

    const pairs = range(30).map((index) => {
      const number = String(index).padStart(3, '0');
      return { scattered: `rnd-${number}`, keyed: `ctl-${number}` };
    });
    const all = pairs.flatMap(({ scattered, keyed }) => [scattered, keyed]);
    const isScattered = (orderId: string) => orderId.startsWith('rnd-');
    const placements: Placement[] = [];
    const scattering = clients.kafka.producer({
      createPartitioner: scatteringPartitioner(placements),
    });
    const keyedProducer = createProducer(clients.kafka);
    ctx.beforeTeardown(async () => {
      await scattering.disconnect();
      await keyedProducer.disconnect();
    });
    await scattering.connect();
    await keyedProducer.connect();
    const sendAll = async (messages: Outgoing[]) => {
      await clients.send(
        scattering,
        messages.filter((message) => isScattered(message.orderId)),
      );
      await clients.send(
        keyedProducer,
        messages.filter((message) => !isScattered(message.orderId)),
      );
    };

    // First the money in: payments (sent before their orders, so many are kept and
    // replayed), each twice, then the orders. Nothing here depends on which comes first.
    await sendAll(
      twice(
        all.flatMap((orderId) => [
          ...['a', 'b', 'c'].map((part) => paid(orderId, 'm-1', '20.00', `${orderId}-m1-${part}`)),
          ...['a', 'b'].map((part) => paid(orderId, 'm-2', '20.00', `${orderId}-m2-${part}`)),
        ]),
      ),
    );
    await sendAll(
      all.map((orderId) =>
        opened(orderId, [
          ['m-1', '60.00'],
          ['m-2', '40.00'],
        ]),
      ),
    );
    await waitUntilCommitted(admin, groupId, inbound, 60_000);
    // Then a release of m-1 and a partial refund of m-2 of each order, each twice.
    await sendAll(
      twice(
        all.flatMap((orderId) => [reached(orderId, 'm-1'), refundAsked(orderId, 'm-2', '15.00')]),
      ),
    );
    await waitUntilCommitted(admin, groupId, inbound, 60_000);

    // The scattering did scatter: most messages off their key's partition, every
    // scattered order's events in several lanes, most of them in both members'.
    expect(placements).toHaveLength(pairs.length * 15);
    const offKey = placements.filter((placement) => placement.partition !== placement.keyed);
    expect(offKey.length).toBeGreaterThan(placements.length / 2);
    const lanesOf = (orderId: string) =>
      new Set(
        placements
          .filter((placement) => placement.orderId === orderId)
          .map((placement) => placement.partition),
      );
    const membersOf = (orderId: string) =>
      new Set([...lanesOf(orderId)].map((lane) => laneHolder.get(lane)));
    expect(pairs.filter(({ scattered }) => lanesOf(scattered).size < 2)).toEqual([]);
    expect(pairs.filter(({ scattered }) => membersOf(scattered).size === 2).length).toBeGreaterThan(
      pairs.length / 2,
    );

    // What each order ends with, reckoned from what was sent: 60.00 paid for m-1 in
    // three parts and released (10 % fee), 40.00 for m-2 in two and 15.00 refunded.
    for (const orderId of all) {
      expect(await balancesOf(ctx.db, orderId, 'm-1')).toEqual(
        balances('RELEASED', 5, { amount: '6000', funded: '6000', released: '6000', fees: '600' }),
      );
      expect(await balancesOf(ctx.db, orderId, 'm-2')).toEqual(
        balances('FUNDED', 4, { amount: '2500', funded: '4000', held: '2500', refunded: '1500' }),
      );
      const requests = (await outboxOf(ctx.db, orderId))
        .filter((row) => row.type === 'PAYOUT_REQUESTED' || row.type === 'REFUND_REQUESTED')
        .map(outcome);
      expect(requests).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'PAYOUT_REQUESTED',
            gross: '60.00',
            fee: '6.00',
            net: '54.00',
          }),
          expect.objectContaining({ type: 'REFUND_REQUESTED', amount: '15.00' }),
        ]),
      );
      expect(requests).toHaveLength(2);
      const ledger = await ledgerOf(ctx.db, orderId);
      expect(ledger.filter((tx) => tx.kind === 'FUNDING')).toHaveLength(5);
    }
    // No event applied twice: one inbox row per event sent, none refused, nothing left kept.
    const inbox = await ctx
      .db('inbox')
      .whereIn('order_id', all)
      .select('order_id', 'outcome')
      .orderBy('order_id');
    expect(inbox).toHaveLength(all.length * 8);
    expect(
      inbox.filter((row: { outcome: string }) => !['APPLIED', 'KEPT'].includes(row.outcome)),
    ).toEqual([]);
    expect(
      await ctx.db('kept_events').whereNull('replayed_at').orWhereNotNull('failed_reason'),
    ).toEqual([]);
    // Each scattered order exactly like its twin sent with the default partitioner.
    for (const { scattered, keyed } of pairs)
      expect(await shapeOf(ctx, scattered)).toEqual(await shapeOf(ctx, keyed));
    const deadLetters = await admin.fetchTopicOffsets(topic('escrow.dlq.v1'));
    expect(deadLetters.map((partition) => partition.high)).toEqual(deadLetters.map(() => '0'));
    expect(failingChecks(await runReconciliation(ctx.db))).toEqual([]);
  }, 90_000);
});

// ---- partition counts at start ----

describe('inbound partition counts at start', () => {
  const ctx = useTestContext();
  const workers = useWorkers(ctx, basePort + 6);

  test('unequal counts refuse the start, naming each topic, its count and the fix', async () => {
    const { admin } = await connect(ctx);
    const prefix = `${ctx.config.TOPIC_PREFIX}unequal-`;
    const payments = `${prefix}escrow.payment-confirmed.v1`;
    const settlements = `${prefix}escrow.settlements.v1`;
    await admin.createTopics({
      topics: [
        { topic: payments, numPartitions: 3 },
        { topic: settlements, numPartitions: 6 },
      ],
      waitForLeaders: true,
    });
    const refused = await workers
      .start('unequal', { TOPIC_PREFIX: prefix, CONSUMER_GROUP: `${prefix}escrow-worker` })
      .then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string; retryable?: boolean },
      );
    expect(refused).toMatchObject({
      name: 'LanePartitionsError',
      code: 'INBOUND_PARTITIONS_DIFFER',
      retryable: false,
    });
    expect(refused!.message).toContain(`${payments} has 3`);
    expect(refused!.message).toContain(`${settlements} has 6`);
    expect(refused!.message).toContain(`Give ${payments} 6 partitions`);
    expect(refused!.message).toContain('--partitions 6');
    // Refused before anything was created or joined.
    expect((await admin.listTopics()).filter((name) => name.startsWith(prefix)).sort()).toEqual(
      [payments, settlements].sort(),
    );
    expect((await describeAssignment(admin, `${prefix}escrow-worker`)).members.size).toBe(0);
  });

  test('a missing inbound topic is created with the count the existing ones share', async () => {
    const { admin } = await connect(ctx);
    const prefix = `${ctx.config.TOPIC_PREFIX}grown-`;
    const groupId = `${prefix}escrow-worker`;
    await admin.createTopics({
      topics: ['escrow.orders.v1', 'escrow.disputes.v1'].map((name) => ({
        topic: `${prefix}${name}`,
        numPartitions: 6,
      })),
      waitForLeaders: true,
    });
    await workers.start('grown', { TOPIC_PREFIX: prefix, CONSUMER_GROUP: groupId });
    const inbound = inboundTopics.map((name) => `${prefix}${name}`);
    const outbound = outboundTopics.map((name) => `${prefix}${name}`);
    const { topics } = await admin.fetchTopicMetadata({ topics: [...inbound, ...outbound] });
    expect(
      Object.fromEntries(topics.map(({ name, partitions }) => [name, partitions.length])),
    ).toEqual({
      ...Object.fromEntries(inbound.map((name) => [name, 6])),
      ...Object.fromEntries(outbound.map((name) => [name, DEFAULT_PARTITIONS])),
    });
    expectWholeLanes(await stableAssignment(admin, groupId, 1, 30_000), inbound, 6);
    await workers.stop('grown');
  });
});
