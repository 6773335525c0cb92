/**
 * Streams the workload into Kafka the way upstream services would: a window
 * of orders in flight at once, each order's next step sent as soon as every
 * event of its previous step is in the inbox, bad messages slipped in at
 * their planned points. It never waits for a fault to end: a killed worker
 * or a stopped Redis or Postgres only slows the inbox down.
 *
 * If no event reaches the inbox for `stallMs` (far longer than any fault
 * lasts), the stream is stalled: the driver stops and says so, and the
 * checks that follow show what was lost.
 */
import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import type { RegistryCodec } from '../../src/codec/registry-codec';
import { sleep } from '../../infra/services/shell';
import type { BadContext, BadFactory, BadMessage, Target } from './adversarial';
import type { Random } from './random';
import type { StreamMessage } from './stream-messages';
import type { OrderScript } from './workload';

export interface SentBadMessage extends BadMessage {
  partition: number;
  offset: string;
}

export interface StreamProgress {
  eventsSent: number;
  eventsTotal: number;
  /** Inbox keys seen so far, of keysTotal: how far the workers (not the producer) have got. */
  keysHandled: number;
  keysTotal: number;
  finished: boolean;
}

interface Flight {
  order: OrderScript;
  step: number;
  waitingFor: Set<string>;
}

export interface DriverOptions {
  window: number;
  stallMs: number;
  /** Planned bad messages, each at a point of the stream (0–1). */
  badPlan: { at: number; kind: string; factory: BadFactory }[];
}

export class StreamDriver {
  readonly progress: StreamProgress;
  readonly badSent: SentBadMessage[] = [];
  /** The retried gateway callbacks sent, for the duplicates check (check-faults.ts). */
  readonly retriesSent: StreamMessage[] = [];
  stalled: string | undefined;
  private readonly targets: Target[] = [];
  private readonly queue: OrderScript[];
  private serial = 0;

  constructor(
    private readonly orders: OrderScript[],
    private readonly deps: {
      db: Knex;
      producer: Producer;
      codec: RegistryCodec;
      topic: (name: string) => string;
      rnd: Random;
      maxMessageBytes: number;
    },
    private readonly options: DriverOptions,
  ) {
    this.queue = [...orders];
    this.progress = {
      eventsSent: 0,
      eventsTotal: orders.reduce((n, o) => n + o.steps.flat().length, 0),
      keysHandled: 0,
      keysTotal: orders.reduce(
        (n, o) =>
          n + o.steps.reduce((m, step) => m + new Set(step.map((e) => e.dedupeKey)).size, 0),
        0,
      ),
      finished: false,
    };
  }

  async run(): Promise<void> {
    const queue = this.queue;
    const flying: Flight[] = [];
    const badQueue = [...this.options.badPlan].sort((a, b) => a.at - b.at);
    let lastProgress = Date.now();
    while (queue.length > 0 || flying.length > 0 || badQueue.length > 0) {
      const outgoing: StreamMessage[] = [];
      while (flying.length < this.options.window && queue.length > 0) {
        const flight: Flight = { order: queue.shift()!, step: -1, waitingFor: new Set() };
        flying.push(flight);
        outgoing.push(...this.advance(flight));
      }
      const seen = await this.inboxHas(flying.flatMap((flight) => [...flight.waitingFor]));
      if (seen === undefined) {
        // The database is being restarted: send what is due anyway, ask again shortly.
        await this.send(outgoing);
        await sleep(500);
        continue;
      }
      for (const flight of [...flying]) {
        const before = flight.waitingFor.size;
        for (const key of flight.waitingFor) if (seen.has(key)) flight.waitingFor.delete(key);
        if (flight.waitingFor.size < before) lastProgress = Date.now();
        this.progress.keysHandled += before - flight.waitingFor.size;
        if (flight.waitingFor.size > 0) continue;
        if (flight.step === 0) this.targets.push(targetOf(flight.order));
        if (flight.step + 1 < flight.order.steps.length) outgoing.push(...this.advance(flight));
        else flying.splice(flying.indexOf(flight), 1);
      }
      await this.send(outgoing);
      const fraction = handledShare(this.progress);
      while (badQueue.length > 0 && badQueue[0]!.at <= fraction && this.targets.length > 0) {
        await this.sendBad(badQueue.shift()!);
      }
      if (Date.now() - lastProgress > this.options.stallMs) {
        this.stalled =
          `the stream stalled: no event reached the inbox for ${this.options.stallMs / 1000} s, ` +
          `with ${flying.length + queue.length} orders unfinished (first waiting: ` +
          `${[...(flying[0]?.waitingFor ?? [])].slice(0, 3).join(', ')})`;
        break;
      }
      await sleep(200);
    }
    this.progress.finished = true;
  }

  /** The ORDER_OPENED of an order that will be sent within seconds, if any is still waiting. */
  upcomingEventId(): string | undefined {
    const order = this.queue[Math.min(5, this.queue.length - 1)];
    return order?.steps[0]?.[0]?.eventId;
  }

  private advance(flight: Flight): StreamMessage[] {
    flight.step++;
    const step = flight.order.steps[flight.step]!;
    flight.waitingFor = new Set(step.map((message) => message.dedupeKey));
    return step;
  }

  private async inboxHas(keys: string[]): Promise<Set<string> | undefined> {
    if (keys.length === 0) return new Set();
    try {
      const rows = await this.deps
        .db('inbox')
        .whereIn('dedupe_key', keys)
        .pluck<string[]>('dedupe_key');
      return new Set(rows);
    } catch {
      return undefined;
    }
  }

  private async send(messages: StreamMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const message of messages) {
      const value = await this.deps.codec.encode(message.topic, message.value);
      const topic = this.deps.topic(message.topic);
      // Array order is kept per partition: a retried callback stays behind its original.
      (byTopic.get(topic) ?? byTopic.set(topic, []).get(topic)!).push({ key: message.key, value });
    }
    await this.deps.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, batch]) => ({ topic, messages: batch })),
    });
    this.progress.eventsSent += messages.length;
    for (const message of messages) if (message.retriedCallback) this.retriesSent.push(message);
  }

  private async sendBad(planned: DriverOptions['badPlan'][number]): Promise<void> {
    const context: BadContext = {
      rnd: this.deps.rnd,
      codec: this.deps.codec,
      maxMessageBytes: this.deps.maxMessageBytes,
      serial: ++this.serial,
    };
    const bad = await planned.factory(context, this.deps.rnd.pick(this.targets));
    // One message per send, so the broker's answer gives its exact partition and offset.
    const [result] = await this.deps.producer.send({
      topic: this.deps.topic(bad.topic),
      acks: -1,
      messages: [{ key: bad.key, value: bad.value }],
    });
    if (!result) throw new Error(`the broker did not confirm the ${bad.kind} message`);
    this.badSent.push({ ...bad, partition: result.partition, offset: String(result.baseOffset) });
  }
}

/** How far through the stream the workers are, 0–1. */
export const handledShare = (progress: StreamProgress) => progress.keysHandled / progress.keysTotal;

/** An open order to aim targeted bad messages at: its first milestone and first deposit. */
function targetOf(order: OrderScript): Target {
  const deposit = order.steps[0]!.find(
    (message) =>
      message.topic === 'escrow.payment-confirmed.v1' &&
      !message.retriedCallback &&
      message.value.milestoneId !== null,
  );
  const value = (deposit?.value ?? {}) as Record<string, string>;
  const milestone = order.milestones[0]!;
  return {
    orderId: order.orderId,
    milestoneId: milestone.milestoneId,
    currency: value.currency ?? 'USD',
    payment: {
      gateway: value.gateway ?? 'stripe',
      reference: value.gatewayReference ?? 'none',
      milestoneId: value.milestoneId ?? milestone.milestoneId,
      amount: value.amount ?? '1',
      currency: value.currency ?? 'USD',
    },
  };
}
