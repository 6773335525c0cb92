/**
 * How `dlq list` and `dlq replay` print: a table for people (one line per
 * entry, the reason shortened to fit a terminal; --json has it whole) and one
 * JSON object per line for scripts.
 */
import { renderTable } from '../format/text-table';
import { type DeadLetterEntry, entryKey, replayOf } from './dead-letter';
import type { ReplayPlan, ReplayedMessage } from './replay-dead-letters';
import { type ReplayState, stateLabel } from './replay-state';

const REASON_WIDTH = 100;
const KEY_WIDTH = 24;

const shorten = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text;

// A reason starts with what broke and ends with the fix or the underlying
// message ("processing failed: <the database's words>", or an older worker's
// "processing failed: insert into … - <the database's words>"): keep both ends.
const elide = (text: string, width: number) => {
  if (text.length <= width) return text;
  const head = Math.ceil((width - 1) * 0.45);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
};

// Inside one deployment every topic carries the prefix; showing it on every line only hides the name.
const unprefixed = (topic: string, prefix: string) =>
  prefix !== '' && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;

export function deadLetterTable(
  entries: readonly DeadLetterEntry[],
  states: readonly (ReplayState | undefined)[],
  topicPrefix: string,
): string {
  const rows = entries.map((entry, index) => {
    const replay = replayOf(entry);
    const reason = `${replay === null ? '' : `[replay of ${replay}] `}${entry.reason}`;
    const state = states[index];
    return [
      entry.id,
      entry.deadLetteredAt.replace(/\.\d+Z$/, 'Z'),
      `${unprefixed(entry.sourceTopic, topicPrefix)}@${entry.sourcePartition}:${entry.sourceOffset}`,
      shorten(entryKey(entry) ?? '(none)', KEY_WIDTH),
      state === undefined ? '?' : stateLabel(state),
      elide(reason.replace(/\s+/g, ' '), REASON_WIDTH),
    ];
  });
  const titles = ['ID', 'DEAD-LETTERED', 'SOURCE', 'KEY', 'STATE', 'REASON'];
  return renderTable(
    titles.map((title) => ({ title })),
    rows,
  ).join('\n');
}

export function deadLetterJson(entry: DeadLetterEntry, state: ReplayState | undefined): string {
  return JSON.stringify({
    id: entry.id,
    dlqTopic: entry.dlqTopic,
    partition: entry.partition,
    offset: entry.offset,
    deadLetteredAt: entry.deadLetteredAt,
    sourceTopic: entry.sourceTopic,
    sourcePartition: entry.sourcePartition,
    sourceOffset: entry.sourceOffset,
    key: entryKey(entry),
    reason: entry.reason,
    originalSize: entry.originalValue?.length ?? null,
    originalHeaders: entry.originalHeaders,
    replayOf: replayOf(entry),
    state: state ?? null,
    ...(entry.unreadable === undefined ? {} : { unreadable: entry.unreadable }),
    ...(entry.truncated === undefined ? {} : { truncated: entry.truncated }),
  });
}

export function planText(plan: ReplayPlan, topicPrefix: string, dryRun: boolean): string {
  const lines = plan.send.map(({ entry, state }) => {
    const note =
      state.state === 'done' ? ' (already processed: the inbox makes it a duplicate)' : '';
    return `${dryRun ? 'would replay' : 'replaying'} ${entry.id} → ${unprefixed(entry.sourceTopic, topicPrefix)}@${entry.sourcePartition} key ${entryKey(entry) ?? '(none)'}${note}`;
  });
  for (const { entry, why } of plan.skipped) lines.push(`skipped ${entry.id}: ${why}`);
  const verb = dryRun ? 'would replay' : 'to replay';
  lines.push(`${plan.send.length} ${verb}, ${plan.skipped.length} skipped`);
  return lines.join('\n');
}

export function replayedText(replayed: ReplayedMessage, topicPrefix: string): string {
  return `replayed ${replayed.entry.id} → ${unprefixed(replayed.topic, topicPrefix)}@${replayed.partition}:${replayed.offset}`;
}
