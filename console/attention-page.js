// The attention page: what needs a person. GET /attention (the database, one
// snapshot), GET /attention/dead-letters (Kafka, loaded beside it) and the
// internal reconciliation, which the worker does not store: the page shows
// the last run this worker process made and runs one on request.
import { get, SignInNeeded } from './api.js';
import {
  age,
  command,
  h,
  money,
  moment,
  notice,
  orderLink,
  providerLink,
  show,
  table,
} from './dom.js';
import { reconciliationSection } from './reconciliation.js';

function stuckFundsChart(stuck) {
  const most = Math.max(1, ...stuck.buckets.map((bucket) => bucket.milestones));
  return h(
    'figure',
    { class: 'chart' },
    h(
      'figcaption',
      {},
      `Milestones holding funds, by time since first funded (${stuck.holding} in all)`,
    ),
    h(
      'ul',
      { class: 'bars' },
      stuck.buckets.map((bucket) =>
        h(
          'li',
          { class: bucket.fromMs >= stuck.thresholdMs ? 'bar past' : 'bar' },
          h('span', { class: 'bar-label' }, bucket.label),
          h(
            'span',
            { class: 'bar-track', 'aria-hidden': 'true' },
            h('span', {
              class: 'bar-fill',
              'data-width': Math.round((100 * bucket.milestones) / most),
            }),
          ),
          h(
            'span',
            { class: 'bar-value' },
            `${bucket.milestones} milestone${bucket.milestones === 1 ? '' : 's'}`,
            bucket.amounts.length > 0
              ? ` · ${bucket.amounts.map((entry) => `${entry.amount} ${entry.currency}`).join(', ')}`
              : '',
          ),
        ),
      ),
    ),
  );
}

// The CSP allows no inline style attributes: widths are set through the CSSOM.
function sizeBars(root) {
  for (const fill of root.querySelectorAll('.bar-fill'))
    fill.style.width = `${fill.dataset.width}%`;
}

function section(id, title, ...children) {
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

function deadLettersSection() {
  const body = h(
    'div',
    { id: 'dead-letters' },
    h('p', { class: 'loading' }, 'Reading the DLQ from Kafka…'),
  );
  get('/attention/dead-letters')
    .then((view) => {
      body.replaceChildren(
        h(
          'p',
          {},
          `${view.total} dead letter${view.total === 1 ? '' : 's'} in ${view.topic}; the newest ${view.perPartition} of each partition read at `,
          moment(view.readAt),
          '.',
        ),
        table(
          'Dead letters, newest first',
          ['Dead-lettered', 'Id', 'Source', 'Order (key)', 'Reason', 'Replay today'],
          view.entries.map((entry) => [
            moment(entry.deadLetteredAt),
            h('code', {}, entry.id),
            `${entry.sourceTopic} ${entry.sourcePartition}:${entry.sourceOffset}`,
            entry.key ?? '—',
            h('span', { class: 'reason' }, entry.reason),
            replayCell(entry),
          ]),
          { class: 'dead-letters', empty: 'The DLQ is empty.' },
        ),
        h(
          'p',
          { class: 'help' },
          'Replaying stays in the CLI: ',
          command('escrow-worker dlq list'),
          ' then ',
          command('escrow-worker dlq replay --id P:O'),
          '.',
        ),
      );
    })
    .catch((failure) => {
      body.replaceChildren(
        failure instanceof SignInNeeded
          ? notice('error', 'Signed out: reload the page to sign in again.')
          : notice(
              'error',
              `The DLQ could not be read: ${failure.message}. `,
              command('escrow-worker dlq list'),
              ' reads it too.',
            ),
      );
    });
  return body;
}

function replayCell(entry) {
  const state = entry.replay.state;
  return [
    h('span', { class: `verdict verdict-${state}` }, state),
    state === 'done'
      ? ` (${entry.replay.outcome}${entry.replay.reason ? ` ${entry.replay.reason}` : ''})`
      : '',
    entry.replay.why ? h('div', { class: 'reason' }, entry.replay.why) : '',
    entry.replayCommand ? h('div', {}, command(entry.replayCommand)) : '',
    entry.replayOf ? h('div', { class: 'muted' }, `a failed replay of ${entry.replayOf}`) : '',
  ];
}

export async function attentionPage() {
  const [view, last] = await Promise.all([get('/attention'), get('/reconciliation/last')]);
  const now = Date.parse(view.generatedAt);
  const { requests } = view;
  show(
    h('h1', {}, 'Needs attention'),
    h(
      'p',
      { class: 'help' },
      'As of ',
      moment(view.generatedAt),
      `. Each list shows the oldest ${view.limit}.`,
      ' ',
      h(
        'a',
        {
          href: '#/attention',
          onclick: (event) => {
            event.preventDefault();
            attentionPage();
          },
        },
        'Refresh',
      ),
    ),
    section(
      'stuck-heading',
      'Stuck funds',
      stuckFundsChart(view.stuckFunds),
      h(
        'p',
        { class: 'help' },
        `Reconciliation reports milestones holding funds longer than ${age(view.stuckFunds.thresholdMs)} as stuck; the list shows the oldest whatever their age.`,
      ),
      table(
        'Oldest milestones holding funds',
        ['Order', 'Milestone', 'State', 'Held', 'Disputed', 'First funded', 'For'],
        view.stuckFunds.oldest.map((row) => [
          orderLink(row.orderId),
          row.milestoneId,
          h('span', { class: 'state' }, row.state),
          money(row.held, row.currency),
          money(row.disputed, row.currency),
          moment(row.since),
          {
            value: [
              age(row.ageMs),
              row.pastThreshold ? h('span', { class: 'warn' }, ' stuck') : '',
            ],
            class: 'number',
          },
        ]),
        { class: 'stuck', empty: 'No milestone holds funds.' },
      ),
    ),
    section(
      'requests-heading',
      'Payouts and refunds unsettled or failed',
      table(
        'Totals',
        ['State', 'Kind', 'Count', 'Amount'],
        requests.totals.map((row) => [
          row.state,
          row.kind,
          { value: String(row.count), class: 'number' },
          money(row.amount, row.currency),
        ]),
        { empty: 'Nothing open.' },
      ),
      table(
        'Oldest open requests',
        ['Requested', 'Kind', 'State', 'Order', 'Party', 'Amount', 'Failure', 'Do'],
        requests.requests.map((row) => [
          [
            moment(row.requestedAt),
            h('div', { class: 'muted' }, `${age(now - Date.parse(row.requestedAt))} ago`),
          ],
          row.kind,
          h('span', { class: `verdict verdict-${row.state.toLowerCase()}` }, row.state),
          orderLink(row.orderId),
          row.kind === 'PAYOUT' ? providerLink(row.partyId) : row.partyId,
          money(row.amount, row.currency),
          row.failureReason ?? '—',
          row.retryCommand ? command(row.retryCommand) : 'wait for the settlement',
        ]),
        { class: 'requests', empty: 'No payout or refund is open.' },
      ),
    ),
    section(
      'receivables-heading',
      'Receivables outstanding',
      table(
        'Owed back by providers after chargebacks',
        ['Provider', 'Owed', 'Chargebacks', 'Oldest chargeback'],
        view.receivables.providers.map((row) => [
          providerLink(row.providerId),
          money(row.owed, row.currency),
          { value: String(row.chargebacks), class: 'number' },
          moment(row.oldestChargedBackAt),
        ]),
        { empty: 'No provider owes anything back.' },
      ),
    ),
    section(
      'waiting-heading',
      'Waiting for their order',
      h(
        'p',
        {},
        `${view.keptEvents.count} kept event${view.keptEvents.count === 1 ? '' : 's'}, ${view.pendingPayments.count} payment${view.pendingPayments.count === 1 ? '' : 's'} waiting. Each is applied by itself when what it waits for arrives.`,
      ),
      table(
        'Kept events',
        ['Received', 'Order', 'Event', 'Topic', 'Waits for', 'Replay failed'],
        view.keptEvents.oldest.map((row) => [
          moment(row.receivedAt),
          row.orderId,
          row.eventId,
          row.topic,
          row.awaiting ?? 'its order',
          row.failedReason ?? '—',
        ]),
        { empty: 'No event is kept.' },
      ),
      table(
        'Payments waiting for their order',
        ['Received', 'Order', 'Milestone', 'Payment', 'Amount', 'Order known?'],
        view.pendingPayments.oldest.map((row) => [
          moment(row.receivedAt),
          row.orderId,
          row.milestoneId ?? '—',
          `${row.gateway} ${row.gatewayReference}`,
          money(row.amount, row.currency),
          row.orderKnown ? 'yes (no such milestone)' : 'no',
        ]),
        { empty: 'No payment is waiting.' },
      ),
    ),
    section('dlq-heading', 'Dead letters', deadLettersSection()),
    reconciliationSection(last, view.gatewayReconciliation),
  );
  sizeBars(document.getElementById('main'));
}
