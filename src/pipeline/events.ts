/** What the pipeline takes in and answers, per event: the types every part of it shares. */
import type { Decision, EscrowCommand } from '../domain/escrow';

export interface InboundEvent {
  readonly topic: string;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly occurredAt: Date;
  readonly command: EscrowCommand;
}

export interface PipelineSettings {
  readonly topicPrefix: string;
  /** PLATFORM_FEE_RATE: the policy when no effective-dated version applies. */
  readonly defaultFeeRate: string;
  readonly now: () => Date;
}

export type Verdict = Decision['status'] | 'DUPLICATE' | 'IDEMPOTENCY_CONFLICT';

export interface EventResult {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly outcomeIds: readonly string[];
  /** Ledger transactions this event posted (kept events replayed with it included). */
  readonly ledgerTransactions: number;
}
