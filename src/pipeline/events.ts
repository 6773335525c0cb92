/** What the pipeline takes in and answers, per event: the types every part of it shares. */
import type { Decision, EscrowCommand } from '../domain/escrow';
import type { OutboxRow } from './outbox';

export interface InboundEvent {
  readonly topic: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly occurredAt: Date;
  readonly command: EscrowCommand;
  /**
   * The W3C trace context its outcomes are published with (trace-hooks.ts):
   * its own span's when tracing is on, the message's as it came when off;
   * undefined when there is none.
   */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

export interface PipelineSettings {
  readonly topicPrefix: string;
  /** PLATFORM_FEE_RATE: the policy when no effective-dated version applies. */
  readonly defaultFeeRate: string;
  readonly now: () => Date;
  /**
   * Called after each commit with the outbox rows it wrote, in order (the
   * worker hands them to its relay's offer). It must not throw or keep the
   * rows from being published: the table is what the relay publishes from.
   */
  readonly committedOutbox?: (rows: readonly OutboxRow[]) => void;
}

export type Verdict = Decision['status'] | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT';

export interface EventResult {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly outcomeIds: readonly string[];
  /** Ledger transactions this event posted (kept events replayed with it included). */
  readonly ledgerTransactions: number;
}
