/**
 * Replaying dead-lettered messages after a fix: the original key, bytes and
 * headers go back to the topic and partition they were first read from, so
 * they queue behind the events of the same key that arrived since, as they
 * would have. The header dlq-replayed-from names the DLQ entry.
 *
 * Replays are idempotent through the inbox: the worker dedupes a replayed
 * event like any redelivery, so replaying twice, or replaying an event that
 * took effect meanwhile, has one effect. The plan is checked whole before
 * anything is sent: one unknown or hopeless id and nothing is replayed.
 */
import type { Producer } from 'kafkajs';
import { REPLAYED_FROM_HEADER } from '../messages/dead-letter';
import { type DeadLetterEntry, type EntryFilter, matchesFilter } from './dead-letter';
import { DlqError } from './errors';
import type { ReplayState } from './replay-state';

export type ReplaySelection =
  | { readonly ids: readonly string[]; readonly force?: boolean }
  | { readonly all: true; readonly filter: EntryFilter; readonly force?: boolean };

export interface PlannedEntry {
  readonly entry: DeadLetterEntry;
  readonly state: ReplayState;
}

export interface ReplayPlan {
  readonly send: readonly PlannedEntry[];
  /** Entries --all left out, with why (already done, would fail again, ...). */
  readonly skipped: readonly (PlannedEntry & { readonly why: string })[];
}

export interface ReplayedMessage {
  readonly entry: DeadLetterEntry;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Decides what to send. By id: every id must exist and be sendable (an
 * `invalid` one only with force), otherwise DlqError naming all of them. All:
 * the entries matching the filter that are still pending (and, with force,
 * the invalid ones); the rest is reported as skipped.
 */
export function planReplay(
  entries: readonly DeadLetterEntry[],
  states: readonly ReplayState[],
  selection: ReplaySelection,
  topicPrefix: string,
): ReplayPlan {
  const planned = entries.map((entry, index) => ({ entry, state: states[index]! }));
  if ('all' in selection) {
    const send: PlannedEntry[] = [];
    const skipped: (PlannedEntry & { why: string })[] = [];
    for (const item of planned) {
      if (!matchesFilter(item.entry, selection.filter, topicPrefix)) continue;
      const why = skipReason(item.state, selection.force === true);
      if (why === null) send.push(item);
      else skipped.push({ ...item, why });
    }
    return { send, skipped };
  }

  const byId = new Map(planned.map((item) => [item.entry.id, item]));
  const unknown = selection.ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new DlqError(
      'DLQ_UNKNOWN_ID',
      `No DLQ entry ${unknown.join(', ')} in ${entries[0]?.dlqTopic ?? 'the DLQ topic'}; nothing was replayed. ` +
        'Take the ids from `escrow-worker dlq list` run with the same TOPIC_PREFIX; an entry past the ' +
        "topic's retention is gone",
    );
  }
  const send = selection.ids.map((id) => byId.get(id)!);
  const refused = send.flatMap((item) => {
    const { state } = item;
    if (state.state === 'unreplayable') return [`${item.entry.id}: ${state.why}`];
    if (state.state === 'invalid' && selection.force !== true) {
      return [`${item.entry.id} would be dead-lettered again: ${state.why}`];
    }
    return [];
  });
  if (refused.length > 0) {
    // --force overrides this tool's validation, never a missing or partial original.
    const invalid = send.some((item) => item.state.state === 'invalid');
    throw new DlqError(
      'DLQ_NOT_REPLAYABLE',
      `Nothing was replayed: ${refused.join('; ')}. ` +
        (invalid
          ? 'Deploy the fix first (this tool checks with the code it runs), or pass --force if ' +
            'the worker is already newer than this tool'
          : 'Leave the unreplayable entries out of --id; --force does not send them'),
    );
  }
  return { send, skipped: [] };
}

function skipReason(state: ReplayState, force: boolean): string | null {
  switch (state.state) {
    case 'pending':
      return null;
    case 'invalid':
      return force ? null : `would be dead-lettered again: ${state.why}`;
    case 'unreplayable':
      return state.why;
    case 'done':
      return `already processed (inbox ${state.inboxKey}: ${state.outcome}); a replay would be a duplicate`;
    case 'conflict':
      return `inbox key ${state.inboxKey} holds an event with a different substance; a replay would only be rejected as IDEMPOTENCY_CONFLICT`;
  }
}

/**
 * Sends the plan in order, one acknowledged message at a time, so the
 * printed result names each replay's offset and a failure leaves a clear
 * line between what went and what did not. The producer must be idempotent
 * (createProducer) so a retried send is not duplicated.
 */
export async function publishReplay(
  producer: Producer,
  plan: ReplayPlan,
  onReplayed?: (replayed: ReplayedMessage) => void,
): Promise<ReplayedMessage[]> {
  const replayed: ReplayedMessage[] = [];
  for (const { entry } of plan.send) {
    const [metadata] = await producer.send({
      topic: entry.sourceTopic,
      acks: -1,
      messages: [
        {
          key: entry.originalKey,
          value: entry.originalValue,
          partition: entry.sourcePartition,
          headers: {
            ...entry.originalHeaders,
            [REPLAYED_FROM_HEADER]: `${entry.dlqTopic}:${entry.id}`,
          },
        },
      ],
    });
    const result = {
      entry,
      topic: entry.sourceTopic,
      partition: metadata?.partition ?? entry.sourcePartition,
      offset: metadata?.baseOffset ?? 'unknown',
    };
    replayed.push(result);
    onReplayed?.(result);
  }
  return replayed;
}
