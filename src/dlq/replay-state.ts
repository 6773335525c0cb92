/**
 * What replaying a dead-lettered message would do today, told without
 * replaying it: the original bytes go through the same decoding and
 * validation the worker applies (the code of this release, so after a fix is
 * deployed the answer reflects the fix), and the event's inbox key is looked
 * up to see whether the event has taken effect since (replayed before, or
 * sent again by its producer). That is what lets `dlq list` say which entries
 * are done and lets `dlq replay --all` skip them instead of re-sending every
 * entry ever dead-lettered, and refuse messages that would only be
 * dead-lettered again.
 */
import type { Knex } from 'knex';
import { consumers } from '../../consumers';
import type { RegistryCodec } from '../codec/registry-codec';
import type { EscrowCommand } from '../domain/escrow';
import { inboxKeyOf, storedVerdict } from '../pipeline/inbox-key';
import type { InboundHandler } from '../pipeline/topic-handler';
import type { DeadLetterEntry } from './dead-letter';

export type ReplayState =
  /**
   * Cannot be sent again at all: no original bytes, only part of them (cut to
   * fit the DLQ), or not an inbound topic of this deployment. --force does not change it.
   */
  | { readonly state: 'unreplayable'; readonly why: string }
  /** Would fail decoding or validation again, today. */
  | { readonly state: 'invalid'; readonly why: string }
  /** Valid today and not in the inbox: a replay would be processed. */
  | { readonly state: 'pending'; readonly inboxKey: string }
  /** The inbox has the event with the same substance: a replay is a duplicate, no effect. */
  | {
      readonly state: 'done';
      readonly inboxKey: string;
      readonly outcome: string;
      readonly reason: string | null;
    }
  /** The inbox key is taken by a different substance: a replay is an IDEMPOTENCY_CONFLICT. */
  | { readonly state: 'conflict'; readonly inboxKey: string };

export interface ReplayContext {
  readonly codec: RegistryCodec;
  readonly db: Knex;
  readonly topicPrefix: string;
}

type Checked =
  | { readonly final: ReplayState }
  | { readonly inboxKey: string; readonly hash: string; readonly command: EscrowCommand };

/** One state per entry, in the order given. RegistryUnavailable propagates: it cannot be told yet. */
export async function replayStates(
  entries: readonly DeadLetterEntry[],
  context: ReplayContext,
): Promise<ReplayState[]> {
  const checked: Checked[] = [];
  for (const entry of entries) checked.push(await check(entry, context));
  const keys = checked.flatMap((item) => ('inboxKey' in item ? [item.inboxKey] : []));
  const inbox = await inboxRows(context.db, [...new Set(keys)]);
  return checked.map((item): ReplayState => {
    if ('final' in item) return item.final;
    const row = inbox.get(item.inboxKey);
    if (row === undefined) return { state: 'pending', inboxKey: item.inboxKey };
    if (storedVerdict(row.payload_hash, item.command, item.hash) === 'IDEMPOTENCY_CONFLICT') {
      return { state: 'conflict', inboxKey: item.inboxKey };
    }
    return { state: 'done', inboxKey: item.inboxKey, outcome: row.outcome, reason: row.reason };
  });
}

function handlerFor(entry: DeadLetterEntry, topicPrefix: string): InboundHandler | undefined {
  return consumers.find((handler) => `${topicPrefix}${handler.topic}` === entry.sourceTopic);
}

async function check(entry: DeadLetterEntry, context: ReplayContext): Promise<Checked> {
  if (entry.unreadable !== undefined) {
    return unreplayable(`the DLQ record itself cannot be decoded (${entry.unreadable})`);
  }
  if (entry.truncated !== undefined) {
    // Sending the prefix the DLQ kept would publish bytes no producer ever sent.
    const { sourceTopic, sourcePartition, sourceOffset } = entry;
    return unreplayable(
      `the DLQ keeps only part of the original message (${entry.truncated}), so a replay would ` +
        'publish bytes its producer never sent; the whole message stays in its source topic while ' +
        `that retains it: read it with kafka-console-consumer --topic ${sourceTopic} --partition ` +
        `${sourcePartition} --offset ${sourceOffset} --max-messages 1, check its sha256, and have ` +
        'its producer send it again fixed',
    );
  }
  const handler = handlerFor(entry, context.topicPrefix);
  if (handler === undefined) {
    return unreplayable(
      `its source topic ${entry.sourceTopic} is not an inbound topic of this deployment ` +
        `(TOPIC_PREFIX ${JSON.stringify(context.topicPrefix)}); run the tool with the TOPIC_PREFIX of the worker that dead-lettered it`,
    );
  }
  if (entry.originalValue === null || entry.originalValue.length === 0) {
    return unreplayable(
      'it has no original value (a tombstone); a replay would be dead-lettered again',
    );
  }
  const decoded = await context.codec.decode(handler.topic, entry.originalValue);
  if (!decoded.ok) return { final: { state: 'invalid', why: decoded.reason } };
  const parsed = handler.parse(decoded.value);
  if (!parsed.ok) return { final: { state: 'invalid', why: parsed.reason } };
  const { key, hash } = inboxKeyOf(parsed.command);
  return { inboxKey: key, hash, command: parsed.command };
}

const unreplayable = (why: string): Checked => ({ final: { state: 'unreplayable', why } });

interface InboxRow {
  dedupe_key: string;
  payload_hash: string;
  outcome: string;
  reason: string | null;
}

async function inboxRows(db: Knex, keys: readonly string[]): Promise<Map<string, InboxRow>> {
  const rows = new Map<string, InboxRow>();
  // Chunked: a DLQ can hold more keys than one statement takes parameters.
  for (let start = 0; start < keys.length; start += 1000) {
    const chunk = keys.slice(start, start + 1000);
    const found = await db<InboxRow>('inbox')
      .whereIn('dedupe_key', chunk)
      .select('dedupe_key', 'payload_hash', 'outcome', 'reason');
    for (const row of found) rows.set(row.dedupe_key, row);
  }
  return rows;
}

/** A short label for tables: pending, done APPLIED, invalid, ... */
export function stateLabel(state: ReplayState): string {
  if (state.state === 'done')
    return `done ${state.outcome}${state.reason ? ` ${state.reason}` : ''}`;
  return state.state;
}
