/**
 * `npm run bench`: measures escrow-worker against the local services and
 * this machine's floors (see docs/benchmark.md). Progress goes to stderr;
 * stdout carries the summary and, as its last line, one JSON object. Exit 0
 * when the run completed, reconciled clean and the workers' group held whole
 * lanes, 1 otherwise, 2 on bad flags.
 */
import { createKafka } from '../kafka/client';
import { createLogger } from '../logging/logger';
import { checkServices } from '../demo/service-checks';
import { buildIfNeeded } from './compiled-worker';
import { type BenchEnvironment, cleanUpBench, planBenchEnvironment } from './environment';
import { generatePlan, PlanError } from './generator';
import { type BenchOptions, parseOptions, usage, UsageError } from './options';
import { benchJson, summaryLines } from './report';
import { runBench } from './run';

const out = (lines: readonly string[]) => void process.stdout.write(`${lines.join('\n')}\n`);
const progress = (line: string) => void process.stderr.write(`bench: ${line}\n`);

async function main(options: BenchOptions): Promise<number> {
  // The one place the bench reads process.env: a copy, from which the bench's own
  // configuration is built (loadConfig) and the worker child's environment derived.
  const env = { ...process.env };
  const interrupt = new AbortController();
  const onSignal = (signal: string) => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    progress(`${signal}: stopping and cleaning up (again to exit at once)`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  // Planned first: bad --events/--orders fail before anything is created.
  const plan = generatePlan({ events: options.events, orders: options.orders, seed: options.seed });
  progress(
    `planned ${plan.events.length} events for ${plan.orders} orders (${plan.duplicates} retried callbacks)`,
  );
  let environment: BenchEnvironment | undefined;
  const planned = await planBenchEnvironment(env, options.instances);
  const log = createLogger(planned.config, { toStderr: true, service: 'escrow-bench' });
  const kafka = createKafka(planned.config, 'escrow-bench', log);
  let exitCode = 0;
  try {
    // Once per run, before anything is created: every worker of the run is the compiled one.
    await buildIfNeeded(env, progress);
    await checkServices(planned.config);
    environment = planned;
    const run = await runBench({
      options,
      plan,
      environment,
      kafka,
      baseEnv: env,
      signal: interrupt.signal,
      progress,
    });
    const json = benchJson(run);
    if (!options.jsonOnly) out([...summaryLines(run, json), '']);
    out([JSON.stringify(json)]);
    if (!run.reconciliation.clean || run.worker.withoutOutcome.length > 0) exitCode = 1;
    if (!run.worker.lanes.disjoint) {
      exitCode = 1;
      progress(`the group's assignment broke its lanes: ${run.worker.lanes.violations.join('; ')}`);
    }
  } catch (error) {
    exitCode = 1;
    progress(`${interrupt.signal.aborted ? 'interrupted' : 'failed'}: ${(error as Error).message}`);
  } finally {
    if (environment) {
      const report = await cleanUpBench(environment, kafka, {
        keep: options.keep,
        keepLog: exitCode !== 0,
      });
      for (const line of report.done) progress(line);
      for (const failure of report.failed) progress(`clean-up: ${failure}`);
      if (report.failed.length > 0) exitCode = 1;
    }
  }
  return interrupt.signal.aborted ? 130 : exitCode;
}

let options: BenchOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n\n${usage}\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const planError = error instanceof PlanError;
    progress(
      planError ? (error as Error).message : `failed: ${(error as Error).stack ?? String(error)}`,
    );
    process.exit(planError ? 2 : 1);
  },
);
