/**
 * Plays the story step by step: says what happens, sends the step's messages
 * to Kafka (or runs the step's operator command), waits until the worker has
 * finished them (and, for the timer's step, until the database shows it),
 * then prints the worker's verdicts, why it decided so, the step's order's
 * milestones and balances, the ledger transactions posted, the outcomes
 * published and, when the step asks, the provider's figures. A step that
 * does not complete stops the story with its number and title.
 */
import { formatAmount, money } from '../domain/money';
import { type LedgerTransactionView, orderLedger, orderView } from '../views/order-view';
import type { DemoRun, SentMessage } from './demo-run';
import type { PublishedOutcome } from './outcome-listener';
import { providerFigureLines } from './provider-report';
import { ledgerTable, milestoneTable, outcomeTable } from './report';
import type { StoryCast, StoryStep } from './story';
import { indentLines, renderTable, wrap } from '../format/text-table';

export type Print = (lines: readonly string[]) => void;

const width = 100;

export async function playStory(
  run: DemoRun,
  cast: StoryCast,
  steps: readonly StoryStep[],
  print: Print,
): Promise<void> {
  let lastTransaction = 0n;
  // Every outcome shown so far: the settlements name the requests among them.
  const published: PublishedOutcome[] = [];
  for (const [index, step] of steps.entries()) {
    const heading = `Step ${index + 1} of ${steps.length}: ${step.title}`;
    print(['', heading, '='.repeat(heading.length), ...wrap(step.happens, width, '  '), '']);
    try {
      const orderId = step.orderId ?? cast.orderId;
      const messages = step.messages(await orderView(run.db, orderId), published);
      const sent: SentMessage[] = [];
      for (const message of messages) sent.push(await run.send(message));
      await run.waitProcessed(sent);
      if (step.operator) {
        const operator = await step.operator(run.environment.config, published);
        print([`  operator runs: ${operator.command}`, ...indentLines(operator.output, '    ')]);
        if (operator.exitCode !== 0) {
          throw new Error(`${operator.command} exited ${operator.exitCode} (its output is above)`);
        }
      }
      const { done } = step;
      if (done) {
        await run.waitFor(async () => done.check(await orderView(run.db, orderId)), done.what);
      }
      const view = await orderView(run.db, orderId);
      const ledger = (await orderLedger(run.db, orderId))?.transactions ?? [];
      const posted = ledger.filter((t) => BigInt(t.transactionId) > lastTransaction);
      lastTransaction = posted.reduce((last, t) => {
        const id = BigInt(t.transactionId);
        return id > last ? id : last;
      }, lastTransaction);
      const outcomes = await run.newOutcomes(messages.length === 0);
      published.push(...outcomes);

      if (sent.length === 0 && !step.operator) {
        print(['  nothing sent: the worker acts on its own']);
      }
      for (const item of sent) {
        const verdict = await run.verdict(item);
        print([
          `  sent to ${item.message.topic}: ${item.message.label}`,
          `    worker verdict: ${verdict}`,
        ]);
        // The narration explains the expected verdict; any other would make it wrong.
        if (!verdict.startsWith(step.verdict)) {
          throw new Error(
            `the worker answered ${item.message.eventId} with ${verdict} where the story expects ` +
              `${step.verdict}; the database may hold state the story does not know (a fee policy, ` +
              'an order of the same id). Run without DATABASE_URL to use a fresh database.',
          );
        }
      }
      print([...wrap(`why: ${step.because}`, width, '  '), '', '  milestones']);
      print(indentLines(view ? milestoneTable(view) : await keptPayments(run, orderId), '    '));
      print(['', '  ledger transactions posted']);
      print(indentLines(ledgerTable(posted), '    '));
      print(['', '  outcomes published (read back from Kafka)']);
      print(indentLines(outcomeTable(outcomes), '    '));
      if (step.showProvider) {
        print(['', `  provider ${cast.providerId} (GET /providers/${cast.providerId})`]);
        print(indentLines(await providerFigureLines(run.db, cast.providerId), '    '));
      }
    } catch (error) {
      throw new Error(`${heading} did not complete: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** Before the order exists there is no milestone to show, only what was kept for it. */
async function keptPayments(run: DemoRun, orderId: string): Promise<string[]> {
  const rows = await run.db('payments').where({ order_id: orderId }).orderBy('payment_id').select<
    {
      gateway: string;
      gateway_reference: string;
      milestone_id: string | null;
      kind: string;
      currency: string;
      amount_minor: string;
      status: string;
    }[]
  >('gateway', 'gateway_reference', 'milestone_id', 'kind', 'currency', 'amount_minor', 'status');
  return [
    `order ${orderId} is not known to the worker yet (no ORDER_OPENED); kept for it:`,
    ...renderTable(
      [
        { title: 'payment' },
        { title: 'for' },
        { title: 'kind' },
        { title: 'amount', align: 'right' },
        { title: 'status' },
      ],
      rows.map((row) => [
        `${row.gateway}/${row.gateway_reference}`,
        row.milestone_id ?? '-',
        row.kind,
        formatAmount(money(row.currency, BigInt(row.amount_minor))),
        `${row.status} (kept, waiting for its order; 0 funded)`,
      ]),
    ),
  ];
}

export async function fullLedger(run: DemoRun, orderId: string): Promise<LedgerTransactionView[]> {
  return (await orderLedger(run.db, orderId))?.transactions ?? [];
}
