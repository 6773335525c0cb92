/**
 * Counts applied events' verdicts and their ledger transactions in the
 * worker's metrics: once per verdict (a rejection once per reason) for a
 * whole slice, not once per event (each increment looks its labels up).
 */
import type { WorkerMetrics } from '../ops/metrics';
import type { EventResult, Verdict } from './events';

type Counted = Exclude<Verdict, 'REJECTED' | 'IDEMPOTENCY_CONFLICT'>;

export function countResults(
  metrics: WorkerMetrics,
  topic: string,
  results: readonly EventResult[],
): void {
  const counters: Record<Counted, WorkerMetrics['eventsApplied']> = {
    APPLIED: metrics.eventsApplied,
    KEPT: metrics.eventsKept,
    UNCHANGED: metrics.eventsUnchanged,
    DUPLICATE: metrics.duplicatesAbsorbed,
  };
  const byVerdict = new Map<Counted, number>();
  const rejectedByReason = new Map<string, number>();
  let ledgerTransactions = 0;
  for (const result of results) {
    if (result.verdict === 'REJECTED' || result.verdict === 'IDEMPOTENCY_CONFLICT') {
      const reason = result.reason ?? result.verdict;
      rejectedByReason.set(reason, (rejectedByReason.get(reason) ?? 0) + 1);
    } else byVerdict.set(result.verdict, (byVerdict.get(result.verdict) ?? 0) + 1);
    ledgerTransactions += result.ledgerTransactions;
  }
  for (const [verdict, count] of byVerdict) counters[verdict].inc({ topic }, count);
  for (const [reason, count] of rejectedByReason)
    metrics.eventsRejected.inc({ topic, reason }, count);
  if (ledgerTransactions > 0) metrics.ledgerTransactionsPosted.inc(ledgerTransactions);
}
