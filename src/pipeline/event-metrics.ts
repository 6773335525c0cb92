/** Counts an applied event's verdict and its ledger transactions in the worker's metrics. */
import type { WorkerMetrics } from '../ops/metrics';
import type { EventResult } from './events';

export function countResult(metrics: WorkerMetrics, topic: string, result: EventResult): void {
  const labels = { topic };
  switch (result.verdict) {
    case 'APPLIED':
      metrics.eventsApplied.inc(labels);
      break;
    case 'KEPT':
      metrics.eventsKept.inc(labels);
      break;
    case 'UNCHANGED':
      metrics.eventsUnchanged.inc(labels);
      break;
    case 'DUPLICATE':
      metrics.duplicatesAbsorbed.inc(labels);
      break;
    case 'REJECTED':
    case 'IDEMPOTENCY_CONFLICT':
      metrics.eventsRejected.inc({ topic, reason: result.reason ?? result.verdict });
      break;
  }
  metrics.ledgerTransactionsPosted.inc(result.ledgerTransactions);
}
