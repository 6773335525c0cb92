/**
 * Plays the payout service and the gateways' refund side: each payout and
 * refund the worker publishes is answered on escrow.settlements.v1 as soon
 * as the outcome reader reads it, with the plan's answer for that request
 * (settlement-plan.ts) and the request's own outcomeId and amount. The
 * settlements read while one send is in flight go out together in the next,
 * through a producer of their own (the planned stream's may be mid-batch).
 * Each settlement's produce time is kept like a planned event's: its latency
 * runs to its own outcome (PAYOUT_SETTLED, REFUND_FAILED, ...).
 */
import type { Producer } from 'kafkajs';
import type { InboundMessage } from '../demo/inbound-events';
import type { RegistryCodec } from '../codec/registry-codec';
import { sendBatch } from './produce';
import {
  type PublishedRequest,
  requestKey,
  requestKindOf,
  type SettlementAnswer,
  settlementOf,
} from './settlement-plan';

export interface SettlementCounts {
  /** Answers planned: one per payout and refund the events cause when applied in order. */
  readonly planned: number;
  readonly sent: number;
  readonly paid: number;
  readonly failed: number;
  /** Requests the plan did not expect, answered as paid. */
  readonly unplanned: number;
  /** Planned answers whose request never came (a refund overtaken and refused, a release recovered in full). */
  readonly notRequested: number;
}

export class SettlementFeedback {
  /** eventId → when the settlement was handed to the broker (ms since the epoch). */
  readonly sentAt = new Map<string, number>();
  private readonly used = new Set<string>();
  private queue: { message: InboundMessage }[] = [];
  private sending: Promise<void> | null = null;
  private paid = 0;
  private failed = 0;
  private unplanned = 0;
  /** Settlements handed to this class so far, sent or not: moves whenever a request is read. */
  enqueued = 0;
  error: Error | null = null;

  constructor(
    private readonly answers: ReadonlyMap<string, SettlementAnswer>,
    private readonly options: {
      producer: Producer;
      codec: RegistryCodec;
      topicPrefix: string;
    },
  ) {}

  /** True while a settlement waits or is being sent. */
  get busy(): boolean {
    return this.queue.length > 0 || this.sending !== null;
  }

  /** A request read from the outcome topics (once per outcomeId); anything else is ignored. */
  answer(request: PublishedRequest): void {
    const kind = requestKindOf(request.type);
    if (kind === null) return;
    const key = requestKey(request.orderId, request.milestoneId ?? null, kind);
    let answer = this.answers.get(key);
    if (answer === undefined || this.used.has(key)) {
      answer = undefined;
      this.unplanned++;
    } else this.used.add(key);
    if (answer?.type.endsWith('_FAILED')) this.failed++;
    else this.paid++;
    this.queue.push({ message: settlementOf(request, answer) });
    this.enqueued++;
    // Sent on the next turn, so that the requests of one fetched batch go together.
    this.sending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.error === null) {
        const batch = this.queue;
        this.queue = [];
        await sendBatch(batch, this.options, this.sentAt);
      }
    } catch (error) {
      this.error = new Error(`sending settlements failed: ${(error as Error).message}`, {
        cause: error,
      });
      this.queue = [];
    } finally {
      this.sending = null;
    }
  }

  counts(): SettlementCounts {
    return {
      planned: this.answers.size,
      sent: this.sentAt.size,
      paid: this.paid,
      failed: this.failed,
      unplanned: this.unplanned,
      notRequested: this.answers.size - this.used.size,
    };
  }
}
