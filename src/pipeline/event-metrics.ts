/**
 * Counts applied events' verdicts and their ledger transactions in the
 * worker's metrics: once per verdict and reason for a whole slice, not once
 * per event (each increment looks its labels up).
 */
import type { WorkerMetrics } from '../ops/metrics';
import type { EventResult } from './events';

export function countResults(
  metrics: WorkerMetrics,
  topic: string,
  results: readonly EventResult[],
): void {
  const counts = new Map<string, number>();
  let ledgerTransactions = 0;
  for (const result of results) {
    const key =
      result.verdict === 'REJECTED' || result.verdict === 'IDEMPOTENCY_CONFLICT'
        ? `R${result.reason ?? result.verdict}`
        : result.verdict;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    ledgerTransactions += result.ledgerTransactions;
  }
  const labels = { topic };
  for (const [key, count] of counts) {
    switch (key) {
      case 'APPLIED':
        metrics.eventsApplied.inc(labels, count);
        break;
      case 'KEPT':
        metrics.eventsKept.inc(labels, count);
        break;
      case 'UNCHANGED':
        metrics.eventsUnchanged.inc(labels, count);
        break;
      case 'DUPLICATE':
        metrics.duplicatesAbsorbed.inc(labels, count);
        break;
      default:
        // A rejection or an idempotency conflict, under its reason.
        metrics.eventsRejected.inc({ topic, reason: key.slice(1) }, count);
    }
  }
  if (ledgerTransactions > 0) metrics.ledgerTransactionsPosted.inc(ledgerTransactions);
}
