/**
 * What the run prints at the end: the faults played, what the stream held,
 * how the worker answered each kind of bad message, every check with what it
 * proves and what it found, and, as the very last line, one JSON object with
 * the counts (events, kills, restarts, bad messages, duplicates absorbed,
 * discrepancies) for CI and people alike.
 */
import { renderTable } from '../../src/format/text-table';
import type { FaultCounts } from './chaos';
import type { SentBadMessage } from './driver';
import type { CheckOutcome } from './findings';

export interface RunCounts {
  events: number;
  /** SIGKILLs: sent by the suite, plus armed workers killing themselves after a commit. */
  kills: number;
  /** Worker restarts plus Redis and Postgres restarts. */
  restarts: number;
  badMessages: number;
  /** Retried gateway callbacks sent and absorbed (check-faults.ts), not the workers' log lines. */
  duplicatesAbsorbed: number;
  /** Payout and refund requests the suite settled (payout-service.ts), redeliveries not counted. */
  settlements: number;
  /** Of those, answered *_FAILED. */
  settlementsFailed: number;
  /** CHARGEBACKs the stream sent (each payment once; redeliveries not counted). */
  chargebacks: number;
  discrepancies: number;
  workerRestarts: number;
  selfKills: number;
  redisRestarts: number;
  postgresRestarts: number;
  offsetRewinds: number;
  orders: number;
  outcomesPublished: number;
  deadLetters: number;
  seed: number;
  seconds: number;
}

export function countsOf(parts: {
  events: number;
  orders: number;
  faults: FaultCounts;
  workerRestarts: number;
  selfKills: number;
  badMessages: number;
  duplicatesAbsorbed: number;
  settlements: number;
  settlementsFailed: number;
  chargebacks: number;
  discrepancies: number;
  outcomesPublished: number;
  deadLetters: number;
  seed: number;
  startedAt: number;
}): RunCounts {
  const { faults } = parts;
  return {
    events: parts.events,
    kills: faults.kills + parts.selfKills,
    restarts: parts.workerRestarts + faults.redisRestarts + faults.postgresRestarts,
    badMessages: parts.badMessages,
    duplicatesAbsorbed: parts.duplicatesAbsorbed,
    settlements: parts.settlements,
    settlementsFailed: parts.settlementsFailed,
    chargebacks: parts.chargebacks,
    discrepancies: parts.discrepancies,
    workerRestarts: parts.workerRestarts,
    selfKills: parts.selfKills,
    redisRestarts: faults.redisRestarts,
    postgresRestarts: faults.postgresRestarts,
    offsetRewinds: faults.offsetRewinds,
    orders: parts.orders,
    outcomesPublished: parts.outcomesPublished,
    deadLetters: parts.deadLetters,
    seed: parts.seed,
    seconds: Math.round((Date.now() - parts.startedAt) / 1000),
  };
}

/** One row per bad-message kind: how many, what was expected, and the worker's answer. */
export function badMessageLines(
  sent: readonly SentBadMessage[],
  reasons: ReadonlyMap<string, string>,
  rejections: ReadonlyMap<string, string>,
): string[] {
  const kinds = [...new Set(sent.map((message) => message.kind))];
  const rows = kinds.map((kind) => {
    const ofKind = sent.filter((message) => message.kind === kind);
    const first = ofKind[0]!;
    const expected =
      first.expect === 'dead-lettered' ? 'DLQ' : `EVENT_REJECTED ${first.expect.rejected}`;
    const answer =
      first.expect === 'dead-lettered'
        ? (reasons.get(kind) ?? 'not found in the DLQ')
        : (rejections.get(first.eventId ?? '') ?? 'no rejection found');
    return [kind, String(ofKind.length), expected, answer.replace(/\s+/g, ' ').slice(0, 90)];
  });
  return renderTable(
    [
      { title: 'bad message' },
      { title: 'sent', align: 'right' },
      { title: 'expected' },
      { title: "worker's answer" },
    ],
    rows,
  );
}

export function checkLines(checks: readonly CheckOutcome[]): string[] {
  const lines = renderTable(
    [{ title: 'check' }, { title: 'found', align: 'right' }, { title: 'proves' }],
    checks.map((check) => [check.name, String(check.count), check.proves]),
  );
  for (const check of checks.filter((c) => c.count > 0)) {
    lines.push('', `${check.name}: ${check.count} discrepanc${check.count === 1 ? 'y' : 'ies'}`);
    for (const example of check.examples) lines.push(`  - ${example}`);
    if (check.count > check.examples.length)
      lines.push(`  ... and ${check.count - check.examples.length} more`);
  }
  return lines;
}
