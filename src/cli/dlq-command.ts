/**
 * `escrow-worker dlq`: what was dead-lettered and why, and replaying it after
 * a fix. The work is in src/dlq/; this file parses arguments, wires the
 * clients from configuration and prints.
 */
import { createLogger } from '../logging/logger';
import { parseArgs } from 'node:util';
import { RegistryCodec } from '../codec/registry-codec';
import { loadConfig, type Config } from '../config';
import { createKnex } from '../db/knex';
import { type EntryFilter, matchesFilter, parseEntryIds } from '../dlq/dead-letter';
import { DLQ_TOPIC } from '../messages/dead-letter';
import { DlqError } from '../dlq/errors';
import {
  deadLetterJson,
  deadLetterTable,
  planText,
  replayedText,
} from '../dlq/format-dead-letters';
import { readDeadLetters } from '../dlq/read-dead-letters';
import { planReplay, publishReplay, type ReplaySelection } from '../dlq/replay-dead-letters';
import { type ReplayState, replayStates } from '../dlq/replay-state';
import { createKafka, createProducer } from '../kafka/client';
import { UsageError } from './command';

export const usage = `usage:
  escrow-worker dlq list [--limit N] [--reason TEXT] [--source-topic TOPIC] [--json]
  escrow-worker dlq replay (--id P:O[,P:O...] | --all [--reason TEXT] [--source-topic TOPIC])
                           [--dry-run] [--force]

list     the dead-lettered messages of ${DLQ_TOPIC} (with TOPIC_PREFIX), oldest first: id
         (<partition>:<offset> in the DLQ), when, source topic@partition:offset, key, state
         and reason. --limit N shows the newest N (default 100, 0 for all); --reason keeps
         entries whose reason contains TEXT; --json prints one JSON object per line.
         State: pending (valid today, not processed yet), done <outcome> (the inbox has it),
         invalid (would be dead-lettered again), conflict, unreplayable.
replay   re-publishes the original key, bytes and headers to the source topic and partition,
         with a dlq-replayed-from header. --id (alias --offset) picks entries; all must exist
         and be valid today, or nothing is sent. --all sends every pending entry (filtered by
         --reason/--source-topic) and says why it skipped the others. --dry-run only prints
         the plan; --force also sends entries this tool finds invalid (when the worker runs
         newer code than the tool). Replaying is idempotent: the worker's inbox makes a
         repeated or already applied event a no-op.`;

export type DlqInvocation =
  | { readonly command: 'help' }
  | {
      readonly command: 'list';
      readonly limit: number;
      readonly filter: EntryFilter;
      readonly json: boolean;
    }
  | { readonly command: 'replay'; readonly selection: ReplaySelection; readonly dryRun: boolean };

const options = {
  limit: { type: 'string' },
  reason: { type: 'string' },
  'source-topic': { type: 'string' },
  json: { type: 'boolean' },
  id: { type: 'string', multiple: true },
  offset: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Arguments after `dlq` → what to do; UsageError naming the problem otherwise. */
export function parseDlqArgs(args: readonly string[]): DlqInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [sub, ...extra] = positionals;
  if (values.help === true || sub === 'help') return { command: 'help' };
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const filter: EntryFilter = { reason: values.reason, sourceTopic: values['source-topic'] };
  const only = (names: (keyof typeof values)[], where: string) => {
    const given = names.filter((name) => values[name] !== undefined);
    if (given.length > 0)
      throw new UsageError(`--${given.join(', --')} does not apply to ${where}`);
  };

  if (sub === 'list') {
    only(['id', 'offset', 'all', 'dry-run', 'force'], 'dlq list');
    return { command: 'list', limit: parseLimit(values.limit), filter, json: values.json === true };
  }
  if (sub === 'replay') {
    only(['limit', 'json'], 'dlq replay');
    const idTexts = [...(values.id ?? []), ...(values.offset ?? [])];
    const force = values.force === true;
    const dryRun = values['dry-run'] === true;
    if (values.all === true) {
      if (idTexts.length > 0) throw new UsageError('give either --id or --all, not both');
      return { command: 'replay', selection: { all: true, filter, force }, dryRun };
    }
    if (idTexts.length === 0) throw new UsageError('dlq replay needs --id P:O[,P:O...] or --all');
    only(['reason', 'source-topic'], '--id (they filter --all)');
    try {
      return {
        command: 'replay',
        selection: { ids: parseEntryIds(idTexts.join(',')), force },
        dryRun,
      };
    } catch (error) {
      if (error instanceof DlqError) throw new UsageError(error.message);
      throw error;
    }
  }
  throw new UsageError(
    sub === undefined
      ? 'dlq needs a subcommand: list or replay'
      : `unknown subcommand ${JSON.stringify(sub)}`,
  );
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 100;
  if (!/^\d{1,9}$/.test(text)) {
    throw new UsageError(
      `--limit ${JSON.stringify(text)} is not a whole number: give N >= 0 (0 for all)`,
    );
  }
  return Number(text);
}

export async function run(args: readonly string[]): Promise<number> {
  let invocation: DlqInvocation;
  try {
    invocation = parseDlqArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`escrow-worker dlq: ${error.message}\n\n${usage}\n`);
    return 2;
  }
  if (invocation.command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const config = loadConfig();
  try {
    return invocation.command === 'list'
      ? await list(config, invocation)
      : await replay(config, invocation);
  } catch (error) {
    if (!(error instanceof DlqError)) throw error;
    process.stderr.write(`escrow-worker dlq: ${error.message} (${error.code})\n`);
    return 1;
  }
}

function clients(config: Config) {
  // stdout carries the list (JSON lines with --json); KafkaJS's own logger would print
  // its info lines there, so its lines go to stderr through a pino logger of their own.
  const log = createLogger(config, { service: 'escrow-worker-dlq', toStderr: true });
  const kafka = createKafka(config, 'escrow-worker-dlq-tool', log);
  const codec = RegistryCodec.fromConfig(config);
  const source = {
    kafka,
    codec,
    topicPrefix: config.TOPIC_PREFIX,
    consumerGroup: config.CONSUMER_GROUP,
    onWarning: (message: string) => process.stderr.write(`warning: ${message}\n`),
  };
  return { kafka, codec, source, db: createKnex(config, { poolMax: 2 }) };
}

async function list(config: Config, invocation: Extract<DlqInvocation, { command: 'list' }>) {
  const { codec, source, db } = clients(config);
  try {
    const all = await readDeadLetters(source);
    const matching = all.filter((entry) =>
      matchesFilter(entry, invocation.filter, config.TOPIC_PREFIX),
    );
    const shown = invocation.limit === 0 ? matching : matching.slice(-invocation.limit);
    let states: (ReplayState | undefined)[];
    try {
      states = await replayStates(shown, { codec, db, topicPrefix: config.TOPIC_PREFIX });
    } catch (error) {
      // The list itself is what matters during an incident; the state column is a help.
      process.stderr.write(
        `warning: the state of entries is unknown: ${(error as Error).message}\n`,
      );
      states = shown.map(() => undefined);
    }
    if (invocation.json) {
      for (const [index, entry] of shown.entries()) {
        process.stdout.write(`${deadLetterJson(entry, states[index])}\n`);
      }
      return 0;
    }
    const topic = `${config.TOPIC_PREFIX}${DLQ_TOPIC}`;
    if (shown.length > 0)
      process.stdout.write(`${deadLetterTable(shown, states, config.TOPIC_PREFIX)}\n`);
    process.stdout.write(
      `${shown.length} shown of ${matching.length} matching, ${all.length} in ${topic}` +
        (shown.length < matching.length ? ' (--limit 0 shows all)' : '') +
        '\n',
    );
    return 0;
  } finally {
    await db.destroy();
  }
}

async function replay(config: Config, invocation: Extract<DlqInvocation, { command: 'replay' }>) {
  const { kafka, codec, source, db } = clients(config);
  try {
    const entries = await readDeadLetters(source);
    const states = await replayStates(entries, { codec, db, topicPrefix: config.TOPIC_PREFIX });
    const plan = planReplay(entries, states, invocation.selection, config.TOPIC_PREFIX);
    process.stdout.write(`${planText(plan, config.TOPIC_PREFIX, invocation.dryRun)}\n`);
    if (invocation.dryRun || plan.send.length === 0) return 0;
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const replayed = await publishReplay(producer, plan, (message) =>
        process.stdout.write(`${replayedText(message, config.TOPIC_PREFIX)}\n`),
      );
      process.stdout.write(`${replayed.length} replayed\n`);
    } finally {
      await producer.disconnect();
    }
    return 0;
  } finally {
    await db.destroy();
  }
}
