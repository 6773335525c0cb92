/**
 * The suite plays the payout service and the gateways' refund adapters
 * (CONTRACT.md, escrow.settlements.v1): it reads PAYOUT_REQUESTED and
 * REFUND_REQUESTED as the workers publish them, one answer per outcome id
 * however often a request is republished, and settles each on the
 * settlements topic while the stream and its faults go on. Mostly paid for
 * exactly what was asked (the payout's netAmount, the refund's amount), a few
 * failed (ACCOUNT_CLOSED and the like: the money stays payable), and some
 * sent a second time under a new eventId, as a retrying sender does, which
 * must be absorbed.
 *
 * What it sent is the bookkeeping of the settlement checks
 * (check-settlements.ts). Each request's answer is drawn from the seed and
 * the request's own figures, so a seed repeats its answers as far as the
 * requests repeat.
 */
import { createHash } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { RegistryCodec } from '../../src/codec/registry-codec';
import { sleep } from '../../infra/services/shell';
import { Random } from './random';
import {
  redeliveredSettlement,
  type SettlementType,
  type StreamMessage,
  streamSettlement,
} from './stream-messages';

/** A request as it was settled: what the checks expect the worker to have recorded. */
export interface SentSettlement {
  outcomeId: string;
  kind: 'PAYOUT' | 'REFUND';
  type: SettlementType;
  orderId: string;
  milestoneId: string | null;
  /** The provider paid or the buyer refunded. */
  partyId: string;
  currency: string;
  /** What was asked and settled, in minor units. */
  amount: bigint;
  paid: boolean;
  reason: string | null;
  gateway: string;
  reference: string;
  eventId: string;
  /** The eventIds it was sent again under. */
  redeliveredAs: string[];
}

const requestTopics = ['escrow.payouts.v1', 'escrow.refunds.v1'] as const;
const failureReasons = ['ACCOUNT_CLOSED', 'INVALID_ACCOUNT_DETAILS', 'RETURNED_BY_BANK'];
const failureRate = 0.06;
const redeliveryRate = 0.1;

/** "1234.56" or "1234" (the currency's own digits) → minor units. */
const minorOf = (text: string) => BigInt(text.replace('.', ''));

export class PayoutService {
  /** Every request answered, by its outcomeId. */
  readonly settled = new Map<string, SentSettlement>();
  /** The settlements sent a second time, for duplicates_absorbed (check-faults.ts). */
  readonly redeliveries: StreamMessage[] = [];
  /** The inbox key of each settlement sent, and the eventId that must hold it. */
  readonly originals = new Map<string, string>();
  private pending: StreamMessage[] = [];
  private sentSinceCatchUp = 0;
  /** Next offset to read, per topic|partition: how far it has read the request topics. */
  private readonly readUpTo = new Map<string, bigint>();
  private consumer: Consumer | undefined;
  private flusher: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private serial = 0;
  private lastError: string | undefined;

  constructor(
    private readonly deps: {
      kafka: Kafka;
      producer: Producer;
      codec: RegistryCodec;
      prefix: string;
      seed: number;
    },
  ) {}

  async start(): Promise<void> {
    const consumer = this.deps.kafka.consumer({
      groupId: `${this.deps.prefix}payout-service`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({
      topics: requestTopics.map((topic) => this.deps.prefix + topic),
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        await this.answer(topic.slice(this.deps.prefix.length), message);
        this.readUpTo.set(`${topic}|${partition}`, BigInt(message.offset) + 1n);
      },
    });
    // Settled as they come, a little behind their request: during the kills, restarts and rewinds.
    this.flusher = setInterval(() => void this.flush(), 250);
  }

  /**
   * Reads the request topics up to their ends, sends what is due, and says how
   * many settlements were sent since the last call: none means every request
   * published so far is answered and the workers have been drained since.
   */
  async catchUp(timeoutMs = 60_000): Promise<number> {
    const admin = this.deps.kafka.admin();
    await admin.connect();
    const ends = new Map<string, bigint>();
    try {
      for (const name of requestTopics) {
        const topic = this.deps.prefix + name;
        for (const { partition, high } of await admin.fetchTopicOffsets(topic))
          if (BigInt(high) > 0n) ends.set(`${topic}|${partition}`, BigInt(high));
      }
    } finally {
      await admin.disconnect();
    }
    const deadline = Date.now() + timeoutMs;
    const behind = () =>
      [...ends].filter(([slot, end]) => (this.readUpTo.get(slot) ?? 0n) < end).map(([s]) => s);
    while (behind().length > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `the payout service did not read the request topics to their ends within ${timeoutMs / 1000} s (behind: ${behind().join(', ')})`,
        );
      await sleep(100);
    }
    await this.flush();
    if (this.pending.length > 0)
      throw new Error(`settlements could not be sent: ${this.lastError ?? 'unknown error'}`);
    const sent = this.sentSinceCatchUp;
    this.sentSinceCatchUp = 0;
    return sent;
  }

  async stop(): Promise<void> {
    clearInterval(this.flusher);
    this.flusher = undefined;
    await this.flushing;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  get failures(): number {
    return [...this.settled.values()].filter((sent) => !sent.paid).length;
  }

  private async answer(topic: string, message: KafkaMessage): Promise<void> {
    const outcomeId = message.headers?.['outcome-id']?.toString();
    // A republished copy of a request answered already: one answer per outcome id.
    if (outcomeId === undefined || this.settled.has(outcomeId) || message.value === null) return;
    const decoded = await this.deps.codec.decode(
      topic as (typeof requestTopics)[number],
      message.value,
    );
    // Undecodable or foreign messages are the topic checks' business, not the payout service's.
    if (!decoded.ok) return;
    const request = decoded.value as Record<string, string | null>;
    const kind = topic === 'escrow.payouts.v1' ? 'PAYOUT' : 'REFUND';
    const amountText = String(kind === 'PAYOUT' ? request.netAmount : request.amount);
    const currency = String(request.currency);
    const orderId = String(request.orderId);
    const milestoneId = request.milestoneId ?? null;
    const rnd = new Random(this.draw(kind, orderId, milestoneId, amountText, currency));
    const paid = !rnd.chance(failureRate);
    const reason = paid ? null : rnd.pick(failureReasons);
    const type: SettlementType = `${kind}_${paid ? 'PAID' : 'FAILED'}`;
    const serial = ++this.serial;
    const gateway = kind === 'PAYOUT' ? 'wise' : 'stripe';
    const settlement = streamSettlement({
      eventId: `settle-${serial}`,
      type,
      orderId,
      milestoneId,
      outcomeId,
      gateway,
      gatewayReference: `${kind === 'PAYOUT' ? 'po' : 're'}-${serial}`,
      amount: amountText,
      currency,
      ...(reason === null ? {} : { reason }),
    });
    const sent: SentSettlement = {
      outcomeId,
      kind,
      type,
      orderId,
      milestoneId,
      partyId: String(kind === 'PAYOUT' ? request.providerId : request.buyerId),
      currency,
      amount: minorOf(amountText),
      paid,
      reason,
      gateway,
      reference: settlement.value.gatewayReference as string,
      eventId: settlement.eventId,
      redeliveredAs: [],
    };
    this.settled.set(outcomeId, sent);
    this.originals.set(settlement.dedupeKey, settlement.eventId);
    this.pending.push(settlement);
    if (rnd.chance(redeliveryRate)) {
      // Right behind the original (same key, same partition), so it is the copy that is absorbed.
      const again = redeliveredSettlement(settlement, `settle-${serial}-again`);
      sent.redeliveredAs.push(again.eventId);
      this.redeliveries.push(again);
      this.pending.push(again);
    }
  }

  /** A seed for one request's answer: the run's seed and the request's own figures. */
  private draw(...parts: (string | null)[]): number {
    const digest = createHash('sha256')
      .update(JSON.stringify([this.deps.seed, ...parts]))
      .digest();
    return digest.readUInt32BE(0);
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      try {
        const messages = [];
        for (const message of batch) {
          messages.push({
            key: message.key,
            value: await this.deps.codec.encode(message.topic, message.value),
          });
        }
        await this.deps.producer.send({
          topic: this.deps.prefix + 'escrow.settlements.v1',
          acks: -1,
          messages,
        });
        this.sentSinceCatchUp += batch.length;
      } catch (error) {
        // Kept for the next tick, in order; catchUp reports it if it never goes out.
        this.pending = [...batch, ...this.pending];
        this.lastError = (error as Error).message;
      }
    });
    return this.flushing;
  }
}
