/**
 * Did the run do what it planned? A run that passes its money checks proves
 * little if its faults never happened, so each is counted from the suite's
 * own actions, not from what the workers say: every planned kill killed a
 * worker, every Redis and Postgres restart and offset rewind was carried out,
 * the armed worker died between its commit and its offset commit, and every
 * retried gateway callback the stream planned (payments and chargebacks) and
 * every settlement the payout service sent twice was sent and absorbed — its
 * inbox row still names the original's eventId, not the retry's.
 */
import type { Knex } from 'knex';
import type { FaultCounts, FaultKind } from './chaos';
import type { Findings } from './findings';
import type { StreamMessage } from './stream-messages';
import type { OrderScript } from './workload';

export function checkFaultsPlayed(
  planned: Record<FaultKind, number>,
  played: FaultCounts,
  selfKills: number,
  findings: Findings,
): void {
  findings.check(
    'faults_played',
    'every planned fault happened: kills, Redis and Postgres restarts, rewinds, the kill right after a commit',
  );
  for (const kind of Object.keys(planned) as FaultKind[]) {
    if (played.played[kind] !== planned[kind])
      findings.add(
        'faults_played',
        `${planned[kind]} ${kind} faults planned, ${played.played[kind]} carried out`,
        Math.abs(planned[kind] - played.played[kind]),
      );
  }
  if (played.armed !== undefined && selfKills === 0)
    findings.add(
      'faults_played',
      `workers were armed to die right after committing ${played.armed}, and none did`,
    );
}

/** Checks each retried callback sent was absorbed; returns how many were. */
export async function checkDuplicatesAbsorbed(
  db: Knex,
  orders: readonly OrderScript[],
  streamed: readonly StreamMessage[],
  settlements: {
    redeliveries: readonly StreamMessage[];
    originals: ReadonlyMap<string, string>;
  },
  findings: Findings,
): Promise<number> {
  findings.check(
    'duplicates_absorbed',
    'every retried gateway callback and redelivered settlement planned was sent, and absorbed: its original is the one applied',
  );
  // The payout service's redeliveries were planned as it answered: all of them were sent.
  const sent = [...streamed, ...settlements.redeliveries];
  const retries = orders.flatMap((order) => order.steps.flat()).filter((m) => m.retriedCallback);
  const sentIds = new Set(sent.map((message) => message.eventId));
  const unsent = retries.filter((message) => !sentIds.has(message.eventId));
  if (retries.length === 0)
    findings.add('duplicates_absorbed', 'the stream planned no retried callback at all');
  if (unsent.length > 0)
    findings.add(
      'duplicates_absorbed',
      `${unsent.length} of ${retries.length} planned retried callbacks were never sent (first: ${unsent[0]!.eventId})`,
      unsent.length,
    );
  const originals = new Map([
    ...orders
      .flatMap((order) => order.steps.flat())
      .filter((message) => !message.retriedCallback)
      .map((message) => [message.dedupeKey, message.eventId] as const),
    ...settlements.originals,
  ]);
  const keys = [...new Set(sent.map((message) => message.dedupeKey))];
  const applied = new Map<string, string>();
  for (let at = 0; at < keys.length; at += 1000) {
    const rows = await db('inbox')
      .whereIn('dedupe_key', keys.slice(at, at + 1000))
      .select<{ dedupe_key: string; event_id: string }[]>('dedupe_key', 'event_id');
    for (const row of rows) applied.set(row.dedupe_key, row.event_id);
  }
  let absorbed = 0;
  for (const retry of sent) {
    const holder = applied.get(retry.dedupeKey);
    const original = originals.get(retry.dedupeKey);
    if (holder !== undefined && holder === original && holder !== retry.eventId) absorbed++;
    else
      findings.add(
        'duplicates_absorbed',
        `retried callback ${retry.eventId} (${retry.dedupeKey}): the inbox names ${holder ?? 'nothing'}, not the original ${original ?? '(none)'}`,
      );
  }
  return absorbed;
}
