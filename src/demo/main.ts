/**
 * `npm run demo`: a marketplace order told end to end against the local
 * services, through the money loop after release (payouts and refunds
 * settled or failed and retried, a chargeback recovered from the provider's
 * next order). A real worker runs in-process; the demo plays the upstream
 * services, the payout service and the gateway adapters with
 * registry-encoded Kafka messages and prints, after each step, the worker's
 * verdicts, every milestone's balances, the ledger transactions and the
 * outcomes published; at the end the provider's and the platform's figures. It uses DATABASE_URL and TOPIC_PREFIX when
 * they are set, else a database and prefix of its own that it removes at the
 * end (--keep keeps them). Exit 0 when the story completed.
 */
import { createLogger } from '../logging/logger';
import { orderView } from '../views/order-view';
import { DemoRun } from './demo-run';
import { cleanUp } from './clean-up';
import { createEnvironment, type DemoEnvironment, planEnvironment, redacted } from './environment';
import { liquidityLines, providerViewLines } from './provider-report';
import { checkServices, withTimeout } from './service-checks';
import { storyCast, storySteps } from './story';
import { fullLedger, playStory, type Print } from './story-runner';
import { orderTotals, reconciliationLines, summaryLines } from './summary';
import { indentLines, wrap } from '../format/text-table';

const usage = `Usage: npm run demo [-- --keep] [-- --verbose]

A scripted marketplace order, end to end through Kafka, the worker and the ledger.
  --keep     keep the database and topics the demo created, to inspect them afterwards
  --verbose  show the worker's log (on stderr; LOG_LEVEL, default info)
DATABASE_URL and TOPIC_PREFIX, when set, are used (and never dropped); otherwise
the demo creates a database and topic prefix of its own on the local services.`;

interface Options {
  keep: boolean;
  verbose: boolean;
}

const print: Print = (lines) => void process.stdout.write(`${lines.join('\n')}\n`);
const fail = (text: string) => void process.stderr.write(`${text}\n`);

function header(environment: DemoEnvironment, migrations: number): string[] {
  const { config } = environment;
  const removed = (what: string) => `created for this run; ${what} at the end unless --keep`;
  const migrated = migrations === 0 ? 'already migrated' : `${migrations} migrations applied now`;
  const paragraph = (text: string) => [...wrap(text, 100), ''];
  return [
    'escrow-worker demo: one marketplace order, end to end',
    '',
    ...paragraph(
      "escrow-worker holds a buyer's payments in escrow, per milestone of an order, and releases " +
        'them to the provider when the milestone is reached, less the platform fee; it refunds ' +
        'the buyer in part or in full and freezes funds during disputes. It is driven by Kafka ' +
        'events, records every movement of money as double-entry ledger entries in Postgres, and ' +
        'publishes each decision as an outcome for the payout and notification services, ' +
        'which answer on escrow.settlements.v1: paid, failed (then asked for again by an ' +
        "operator), or charged back by the buyer's bank.",
    ),
    `  database  ${redacted(config.DATABASE_URL)}`,
    `            (${environment.ownDatabase ? removed('dropped') : 'given by DATABASE_URL; never dropped'}; ${migrated})`,
    `  topics    prefix "${config.TOPIC_PREFIX}" on ${config.KAFKA_BROKERS.join(',')}`,
    `            (${environment.ownPrefix ? removed('deleted') : 'given by TOPIC_PREFIX; never deleted'})`,
    `  worker    in-process: consumer group ${config.CONSUMER_GROUP}, operations API on port ${config.OPS_PORT}`,
    `  fees      PLATFORM_FEE_RATE ${config.PLATFORM_FEE_RATE}, unless a fee policy in the database says otherwise`,
    '',
    ...paragraph(
      'Each step says what the upstream services send (real Kafka messages, encoded through the ' +
        "schema registry), the worker's verdict from its inbox and why it decided so, then shows " +
        "every milestone's state and balances, the ledger transactions posted (each sums to zero) " +
        'and the outcomes the outbox relay published, read back from Kafka. In the tables, amount ' +
        'is what a milestone is worth now, funded what was paid in, held what sits in escrow, ' +
        'disputed what a dispute froze, released what went to the provider (gross), fees the ' +
        'platform part of released, refunded what went back to the buyer. Amounts are USD.',
    ).slice(0, -1),
  ];
}

async function main(options: Options): Promise<number> {
  // The one place the demo reads process.env: a copy, on top of which planEnvironment
  // sets the demo's own database, topic prefix, consumer group and port for loadConfig.
  const env = { ...process.env };
  const startedAt = Date.now();
  const interrupt = new AbortController();
  const onSignal = (signal: string) => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
    fail(`\n${signal}: stopping the demo and cleaning up (again to exit at once)`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let environment: DemoEnvironment | undefined;
  let run: DemoRun | undefined;
  let exitCode = 0;
  try {
    const planned = await planEnvironment(env, options);
    // Checked before anything is created: a missing service is named within seconds.
    await checkServices(planned.config);
    environment = planned;
    const applied = await createEnvironment(environment);
    print(header(environment, applied.length));
    // stderr: the story on stdout stays readable, and the log can be kept apart.
    const log = createLogger(environment.config, { toStderr: true });
    const cast = storyCast(environment.runId, environment.config.PLATFORM_FEE_RATE);
    const orderIds = [cast.orderId, cast.nextOrderId];
    run = new DemoRun(environment, log, interrupt.signal, new Set(orderIds));
    await run.start();
    await playStory(run, cast, storySteps(cast), print);

    print(['', 'Summary', '=======']);
    for (const orderId of orderIds) {
      const view = await orderView(run.db, orderId);
      if (!view) throw new Error(`order ${orderId} is missing at the end of the story`);
      const ledger = await fullLedger(run, orderId);
      const totals = orderTotals(view, ledger);
      print([...indentLines(summaryLines(view, ledger, totals)), '']);
      if (!totals.balanced || !totals.ledgerNetsToZero) {
        throw new Error(`the escrow identity or the ledger balance of ${orderId} does not hold`);
      }
    }
    const provider = `The provider at the end (GET /providers/${cast.providerId})`;
    print([provider, '='.repeat(provider.length)]);
    print(indentLines(await providerViewLines(run.db, cast.providerId)));
    const liquidity = await liquidityLines(run.db);
    print([
      '',
      'Liquidity (GET /liquidity, for the whole database the demo used)',
      '================================================================',
      ...indentLines(liquidity.lines),
    ]);
    if (!liquidity.balanced) {
      throw new Error(
        'gateway clearing is not what the ledger says the platform holds (see above)',
      );
    }
    const reconciliation = await reconciliationLines(run.db);
    print([
      '',
      'Reconciliation (what `npm run reconcile` prints for this database)',
      '==================================================================',
      ...indentLines(reconciliation.lines),
    ]);
    // A database of its own holds only the story: anything unclean there is a defect.
    if (!reconciliation.clean && environment.ownDatabase !== null) {
      throw new Error('reconciliation found discrepancies in the demo database (see above)');
    }
  } catch (error) {
    exitCode = 1;
    const what = interrupt.signal.aborted ? 'demo interrupted' : 'demo failed';
    fail(`\n${what}: ${(error as Error).message}`);
  } finally {
    try {
      // Bounded: a worker whose broker went away must not keep the demo from cleaning up.
      await withTimeout(run?.stop() ?? Promise.resolve(), 30_000, 'stopping the worker');
    } catch (error) {
      exitCode = 1;
      fail(`stopping the worker failed: ${(error as Error).message}`);
    }
    if (environment) {
      const report = await cleanUp(environment, options.keep);
      print(['', 'Clean-up', '========', ...indentLines(report.done)]);
      for (const failure of report.failed) fail(`clean-up: ${failure}`);
      if (report.failed.length > 0) exitCode = 1;
    }
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  print(['', exitCode === 0 ? `Done in ${seconds} s.` : `Stopped after ${seconds} s.`]);
  return interrupt.signal.aborted ? 130 : exitCode;
}

const args = process.argv.slice(2);
const unknown = args.filter((arg) => !['--keep', '--verbose', '--help', '-h'].includes(arg));
if (args.includes('--help') || args.includes('-h') || unknown.length > 0) {
  if (unknown.length > 0) fail(`unknown option ${unknown.join(' ')}\n`);
  fail(usage);
  process.exit(unknown.length > 0 ? 2 : 0);
}
main({ keep: args.includes('--keep'), verbose: args.includes('--verbose') }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    fail(`demo failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
