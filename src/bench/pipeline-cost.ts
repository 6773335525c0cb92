/**
 * `npm run bench:pipeline -- --events N`: the unit of work's CPU per event,
 * measured alone. The bench's planned stream (generator.ts), each message
 * validated by its topic's consumer (what prepare-message.ts does after the
 * Avro decode) and applied in slices of 500 through applyBatch, one
 * transaction each, on one connection: the worker's path from a decoded
 * message to a commit, without Kafka, the lanes, the relay or another
 * process competing. CPU is this process's (process.cpuUsage, its garbage
 * collector's threads included) and Postgres's (every process of the
 * server, cpu-usage.ts), per event.
 *
 * What it is for: comparing two versions of the pipeline. The full bench
 * (`npm run bench`) measures the whole worker, but its CPU per event moves
 * by a tenth between runs of one commit on this machine (five processes
 * share two cores); this moves by a few percent, so a change of 5 % shows in
 * two or three alternated runs. The first fifth of the stream warms up (JIT,
 * prepared statements past their custom plans) and is not counted. The
 * events are applied in stream order (no event overtakes its order), so
 * kept events are few; the slice sizes are the worker's when flooded.
 *
 * It runs on a database `escrow_bench_<hex>` of its own (migrated), dropped
 * at the end unless --keep, and reconciles it before dropping it. Progress
 * and a summary go to stderr, one JSON line to stdout. Exit 0 when it
 * reconciled clean, 1 otherwise, 2 on bad flags.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { consumers } from '../../consumers';
import type { InboundTopic } from '../codec/schemas';
import { createKnex } from '../db/knex';
import * as scratch from '../demo/environment';
import { applyBatch } from '../pipeline/apply-batch';
import type { InboundEvent, PipelineSettings } from '../pipeline/events';
import { runReconciliation } from '../reconcile';
import { cpuSnapshot, cpuUsageBetween } from './cpu-usage';
import { planBenchEnvironment } from './environment';
import { generatePlan } from './generator';
import { collectGarbage, postgresOwners, quietMachine, runFromCommandLine } from './measure-alone';

const usage = `Usage: npm run bench:pipeline -- [--events N] [--slice N] [--seed S] [--keep]

Applies the bench's planned stream through the unit of work (validate, then applyBatch in
slices, one transaction each) on a scratch database, and reports CPU per event of this
process and of Postgres: the pipeline alone, for comparing two versions of it.

  --events N  events planned (default 20000; the first fifth warms up, uncounted)
  --slice N   events per transaction (default 500, the worker's largest)
  --seed S    the bench generator's seed (default 1)
  --keep      keep the database afterwards`;

interface Options {
  events: number;
  slice: number;
  seed: string;
  keep: boolean;
}

function parseOptions(args: readonly string[]): Options | string {
  const options: Options = { events: 20_000, slice: 500, seed: '1', keep: false };
  const count = (flag: string, raw: string | undefined, max: number) => {
    if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
      throw new Error(`${flag} takes a whole number from 1 to ${max}, e.g. ${flag} 500`);
    return Number(raw);
  };
  for (let index = 0; index < args.length; index++) {
    const flag = args[index]!;
    if (flag === '--events') options.events = count(flag, args[++index], 1_000_000);
    else if (flag === '--slice') options.slice = count(flag, args[++index], 500);
    else if (flag === '--seed') options.seed = args[++index] ?? '1';
    else if (flag === '--keep') options.keep = true;
    else return flag === '--help' ? '' : `unknown flag ${flag}`;
  }
  return options;
}

const progress = (line: string) => void process.stderr.write(`bench:pipeline: ${line}\n`);

const handlers = new Map(consumers.map((handler) => [handler.topic, handler]));

/** A planned message made an event as prepare-message.ts makes it after the decode. */
function eventOf(topic: InboundTopic, value: unknown, offset: number): InboundEvent | null {
  const parsed = handlers.get(topic)!.parse(value);
  if (!parsed.ok) return null;
  return {
    topic,
    partition: 0,
    offset: String(offset),
    occurredAt: parsed.occurredAt,
    command: parsed.command,
  };
}

async function main(options: Options, signal: AbortSignal): Promise<number> {
  const environment = await planBenchEnvironment({ ...process.env });
  const { config } = environment;
  const db = createKnex(config, { poolMax: 1 });
  try {
    progress(`database ${environment.main.ownDatabase}`);
    await scratch.createEnvironment(environment.main);
    const messages = generatePlan({ events: options.events, seed: options.seed }).events.map(
      (planned) => planned.message,
    );
    const settings: PipelineSettings = {
      topicPrefix: config.TOPIC_PREFIX,
      defaultFeeRate: config.PLATFORM_FEE_RATE,
      now: () => new Date(),
    };
    // The counted events' verdicts (the warm-up's are cleared).
    const verdicts: Record<string, number> = {};
    let invalid = 0;
    const apply = async (from: number, to: number) => {
      for (let start = from; start < to; start += options.slice) {
        const events: InboundEvent[] = [];
        for (let index = start; index < Math.min(start + options.slice, to); index++) {
          const event = eventOf(messages[index]!.topic, messages[index]!.value, index);
          if (event === null) invalid += 1;
          else events.push(event);
        }
        for (const result of await applyBatch(db, settings, events))
          verdicts[result.verdict] = (verdicts[result.verdict] ?? 0) + 1;
      }
    };
    const warm = Math.floor(messages.length / 5);
    await apply(0, warm);
    for (const verdict of Object.keys(verdicts)) delete verdicts[verdict];
    collectGarbage();
    const busyBefore = await quietMachine(signal, progress);
    progress(`applying ${messages.length - warm} events after ${warm} to warm up`);
    const owners = await postgresOwners(db);
    const startCpu = cpuSnapshot(owners);
    const startOwn = process.cpuUsage();
    const startedAt = performance.now();
    await apply(warm, messages.length);
    const own = process.cpuUsage(startOwn);
    const durationMs = performance.now() - startedAt;
    const machine = cpuUsageBetween(startCpu, cpuSnapshot(owners));
    const counted = messages.length - warm;
    const perEvent = (seconds: number) => Number(((seconds * 1e6) / counted).toFixed(1));
    const report = await runReconciliation(db);
    const json = {
      events: counted,
      warmUpEvents: warm,
      slice: options.slice,
      seed: options.seed,
      durationMs: Math.round(durationMs),
      eventsPerSecond: Math.round(counted / (durationMs / 1000)),
      pipelineCpuMicrosecondsPerEvent: perEvent((own.user + own.system) / 1e6),
      postgresCpuMicrosecondsPerEvent: machine ? perEvent(machine.cpuSeconds.postgres) : null,
      otherCpuSeconds: machine?.cpuSeconds.other ?? null,
      verdicts,
      invalid,
      reconciliationClean: report.clean,
      machineBusyPercentBeforeStart: busyBefore,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version },
    };
    progress(
      `${counted} events in ${(durationMs / 1000).toFixed(2)} s: ${json.eventsPerSecond} events/s; ` +
        `CPU per event: pipeline ${json.pipelineCpuMicrosecondsPerEvent} µs, ` +
        `Postgres ${json.postgresCpuMicrosecondsPerEvent ?? '?'} µs; ` +
        `reconciled ${report.clean ? 'clean' : 'with discrepancies'}`,
    );
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return report.clean ? 0 : 1;
  } finally {
    await db.destroy();
    if (options.keep) progress(`kept database ${environment.main.ownDatabase}`);
    else
      await scratch
        .dropOwnDatabase(environment.main)
        .catch((error: unknown) =>
          progress(`dropping the database failed: ${(error as Error).message}`),
        );
  }
}

runFromCommandLine({ usage, parseOptions, main, progress });
