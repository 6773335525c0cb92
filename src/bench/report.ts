/**
 * What a run prints: a readable summary for people, and one JSON object for
 * machines (the last line of stdout). Figures are rounded for reading; the
 * JSON keeps one decimal, enough to compare runs.
 */
import { cpus, totalmem } from 'node:os';
import { indentLines, renderTable } from '../format/text-table';
import type { LockKind } from './db-activity';
import type { LaneReport } from './lane-watch';
import type { BenchRun } from './run';
import { counterBy, histogramSummary } from './worker-metrics';

/**
 * CPU milliseconds per inbound event for each component, to the microsecond:
 * the figure to compare between runs (cpuSeconds is rounded to a tenth of a
 * second, 4 % of a default run's worker).
 */
const cpuMsPerEvent = (cpuSeconds: Readonly<Record<string, number>>, events: number) =>
  Object.fromEntries(
    Object.entries(cpuSeconds).map(([component, seconds]) => [
      component,
      events > 0 ? Math.round((seconds / events) * 1e6) / 1e3 : null,
    ]),
  );

const round = (value: number) => (Number.isFinite(value) ? Math.round(value * 10) / 10 : null);

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function benchJson(run: BenchRun): Record<string, unknown> {
  const { worker, plan, options } = run;
  const metrics = worker.metricsText ?? '';
  const processing = histogramSummary(metrics, 'escrow_event_processing_seconds');
  const lockWait = histogramSummary(metrics, 'escrow_lock_wait_seconds');
  const lowerFloor = Math.min(run.kafkaFloor.eventsPerSecond, run.dbFloor.eventsPerSecond);
  const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
  return {
    eventsPerSecond: round(worker.eventsPerSecond),
    p50Ms: round(worker.latency.p50Ms),
    p99Ms: round(worker.latency.p99Ms),
    maxMs: round(worker.latency.maxMs),
    meanMs: round(worker.latency.meanMs),
    rssMb: round(worker.peakRssBytes / 2 ** 20),
    rssMbByInstance: worker.peakRssBytesByInstance.map((bytes) => round(bytes / 2 ** 20)),
    instances: worker.instances,
    kafkaFloorEventsPerSecond: round(run.kafkaFloor.eventsPerSecond),
    dbFloorEventsPerSecond: round(run.dbFloor.eventsPerSecond),
    dbFloorEvents: run.dbFloor.events,
    dbFloorSettlements: run.dbFloor.settlements,
    shareOfLowerFloor: round((100 * worker.eventsPerSecond) / lowerFloor),
    events: worker.eventsSent,
    orders: plan.orders,
    offeredRate: options.rate ?? null,
    duplicates: plan.duplicates,
    chargebacks: plan.byKind.CHARGEBACK,
    settlements: worker.settlements,
    settlementP50Ms: round(worker.settlementLatency.p50Ms),
    settlementP99Ms: round(worker.settlementLatency.p99Ms),
    durationMs: Math.round(worker.durationMs),
    produceMs: Math.round(worker.produceMs),
    seed: options.seed,
    reconciliationClean: run.reconciliation.clean,
    reconciliationFindings: run.reconciliation.findings,
    eventsWithoutOutcome: worker.withoutOutcome.length,
    outcomes: worker.outcomes,
    deadLettered: worker.deadLettered,
    duplicatesAbsorbed: sum(counterBy(metrics, 'escrow_duplicates_absorbed_total', 'topic')),
    transientRetries: sum(counterBy(metrics, 'escrow_transient_retries_total', 'stage')),
    verdicts: run.verdicts,
    workerProcessingMeanMs: round(processing?.meanMs ?? Number.NaN),
    workerProcessingP99AtMostMs: round(processing?.p99AtMostMs ?? Number.NaN),
    lockWaitMeanMs: round(lockWait?.meanMs ?? Number.NaN),
    lockWaitP99AtMostMs: round(lockWait?.p99AtMostMs ?? Number.NaN),
    cpuSeconds: worker.cpu
      ? Object.fromEntries(Object.entries(worker.cpu.cpuSeconds).map(([k, v]) => [k, round(v)]))
      : null,
    cpuMsPerEvent: worker.cpu ? cpuMsPerEvent(worker.cpu.cpuSeconds, worker.eventsSent) : null,
    workerDbActivity: worker.dbActivity,
    workerLockWaits: worker.lockWaits,
    lanes: worker.lanes,
    preloadEntries: run.preload?.entries ?? 0,
    preloadMs: run.preload?.durationMs ?? null,
    ...(run.preload ? preloadComparison(worker.eventsPerSecond, run.preload.emptyLedger) : {}),
    machine: machine(),
  };
}

const lockKindNames: Record<LockKind, string> = {
  advisory: "advisory (the orders' pg_advisory_xact_lock)",
  transactionid: 'transactionid (a row another transaction holds: account balances, orders)',
  tuple: 'tuple (queued behind another waiter for a row)',
  relation: 'relation (a whole table)',
  other: 'other',
};

const perSecond = (value: unknown) => `${String(value)} events/s`;

function lanesLine(lanes: LaneReport): string {
  const checked = `${lanes.checks} checks of ${lanes.members} members (${lanes.assigner ?? 'no assigner seen'})`;
  if (lanes.checks === 0) return 'NOT checked: the group was never seen Stable';
  return lanes.disjoint
    ? `whole, ${checked}`
    : `BROKEN in ${lanes.violations.length} ways, ${checked}`;
}
const ms = (value: unknown) => `${String(value)} ms`;

export function summaryLines(run: BenchRun, json: Record<string, unknown>): string[] {
  const { worker } = run;
  const host = machine();
  const offered =
    run.options.rate === undefined
      ? 'as fast as the broker takes them'
      : `${run.options.rate} events/s`;
  const instances =
    worker.instances === 1 ? '' : `, ${worker.instances} worker instances in one consumer group`;
  const lines = [
    'escrow-worker benchmark',
    '',
    `  ${String(json.events)} events for ${String(json.orders)} orders (${String(json.duplicates)} retried callbacks, ` +
      `${worker.settlements.sent} settlements of payouts and refunds, ${String(json.chargebacks)} chargebacks), ` +
      `offered ${offered}, seed ${run.options.seed}` +
      (run.preload ? `, on a ledger preloaded with ${run.preload.entries} entries` : '') +
      instances,
    `  ${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB, Node ${host.node}`,
    '',
    ...indentLines(
      renderTable(
        [{ title: 'figure' }, { title: 'value', align: 'right' }],
        [
          [
            'sustained throughput (first produced -> last outcome published)',
            perSecond(json.eventsPerSecond),
          ],
          ['end-to-end latency p50', ms(json.p50Ms)],
          ['end-to-end latency p99', ms(json.p99Ms)],
          ['end-to-end latency max', ms(json.maxMs)],
          [
            `settlements (${worker.settlements.paid} paid, ${worker.settlements.failed} failed): latency p50 / p99`,
            `${String(json.settlementP50Ms)} / ${String(json.settlementP99Ms)} ms`,
          ],
          worker.instances === 1
            ? ['worker peak RSS', `${String(json.rssMb)} MB`]
            : [
                `worker peak RSS, the highest of ${worker.instances} (each: ${(json.rssMbByInstance as number[]).join(', ')} MB)`,
                `${String(json.rssMb)} MB`,
              ],
          [
            `Kafka floor (pass-through, no work; ${run.kafkaFloor.passes} passes)`,
            perSecond(json.kafkaFloorEventsPerSecond),
          ],
          [
            `database floor (same rows, batched SQL; ${run.dbFloor.events} events, ${run.dbFloor.settlements} of them settlements)`,
            perSecond(json.dbFloorEventsPerSecond),
          ],
          ['throughput as a share of the lower floor', `${String(json.shareOfLowerFloor)} %`],
          ...(run.preload
            ? [
                [
                  'the same plan on an empty ledger, right before / right after',
                  `${String(json.emptyLedgerBeforeEventsPerSecond)} / ${String(json.emptyLedgerAfterEventsPerSecond)} events/s`,
                ],
                [
                  'preloaded throughput against the mean of those two',
                  `${String(json.preloadedVsEmptyPercent)} %`,
                ],
              ]
            : []),
          ['measured span', `${(worker.durationMs / 1000).toFixed(1)} s`],
          [
            'reconciliation',
            run.reconciliation.clean
              ? 'clean'
              : `NOT clean: ${run.reconciliation.findings.join(', ')}`,
          ],
          [
            'events without an outcome (retried callbacks excluded)',
            String(json.eventsWithoutOutcome),
          ],
          ['dead-lettered', String(json.deadLettered)],
          [
            'lanes (partition i of every inbound topic held by one member)',
            lanesLine(worker.lanes),
          ],
        ],
      ),
    ),
    '',
    "  The worker's verdicts (its inbox; retried callbacks leave no row of their own):",
    ...indentLines(
      renderTable(
        [{ title: 'verdict' }, { title: 'events', align: 'right' }],
        Object.entries(run.verdicts).map(([verdict, count]) => [verdict, String(count)]),
      ),
      '    ',
    ),
  ];
  if (worker.lanes.violations.length > 0) {
    const shown = worker.lanes.violations.slice(0, 10);
    lines.push(
      '',
      "  The group's assignment broke its lanes (a Stable assignment; the run fails):",
      ...shown.map((violation) => `    - ${violation}`),
      ...(worker.lanes.violations.length > shown.length
        ? [
            `    ... and ${worker.lanes.violations.length - shown.length} more (the JSON line has all)`,
          ]
        : []),
    );
  }
  if (worker.cpu) {
    const { cpu } = worker;
    const capacity = cpu.seconds * cpu.cores;
    const others = cpu.cpuSeconds.other / capacity;
    if (others > 0.1) {
      lines.push(
        '',
        `  WARNING: other processes used ${(100 * others).toFixed(0)} % of the machine during the run; ` +
          'its figures are low by that much or more. Run again on a quiet machine.',
      );
    }
    lines.push(
      '',
      `  Where the CPU went during the measured run (${cpu.cores} cores × ${cpu.seconds.toFixed(1)} s = ${capacity.toFixed(0)} CPU s):`,
      ...indentLines(
        renderTable(
          [
            { title: 'component' },
            { title: 'CPU s', align: 'right' },
            { title: 'of the machine', align: 'right' },
          ],
          Object.entries(cpu.cpuSeconds).map(([component, seconds]) => [
            component,
            seconds.toFixed(1),
            `${((100 * seconds) / capacity).toFixed(0)} %`,
          ]),
        ),
        '    ',
      ),
    );
  }
  lines.push(
    '',
    "  What the worker's database sessions were doing (pg_stat_activity every 50 ms, share of wall time):",
    ...indentLines(
      renderTable(
        [{ title: 'state' }, { title: 'share', align: 'right' }],
        Object.entries(worker.dbActivity).map(([state, share]) => [state, `${share} %`]),
      ),
      '    ',
    ),
  );
  if (Object.keys(worker.lockWaits).length > 0) {
    lines.push(
      '',
      '  The lock waits by the lock waited for (share of the samples with a worker session waiting for a lock):',
      ...indentLines(
        renderTable(
          [{ title: 'lock' }, { title: 'share', align: 'right' }],
          Object.entries(worker.lockWaits).map(([kind, share]) => [
            lockKindNames[kind as LockKind],
            `${share} %`,
          ]),
        ),
        '    ',
      ),
    );
  }
  lines.push(
    '',
    `  The worker's own timings (/metrics): per message ${String(json.workerProcessingMeanMs)} ms mean, ` +
      `p99 <= ${String(json.workerProcessingP99AtMostMs)} ms (handed over -> database commit); ` +
      `Redlock wait ${String(json.lockWaitMeanMs)} ms mean, p99 <= ${String(json.lockWaitP99AtMostMs)} ms.`,
  );
  return lines;
}

/**
 * The preloaded run against the empty-ledger runs that bracket it: their
 * mean cancels a machine that speeds up or slows down steadily over the runs.
 */
export function preloadComparison(
  preloaded: number,
  empty: { before: number; after: number },
): Record<string, number | null> {
  const mean = (empty.before + empty.after) / 2;
  return {
    emptyLedgerBeforeEventsPerSecond: round(empty.before),
    emptyLedgerAfterEventsPerSecond: round(empty.after),
    preloadedVsEmptyPercent: round((100 * preloaded) / mean),
  };
}
