// The attention page's reconciliation section. Internal: the worker keeps no
// reconciliation runs, so this shows the last one this worker process ran
// (GET /reconciliation/last, in memory until it restarts) and runs one on
// request (GET /reconciliation). Gateway: the last recorded run of each
// gateway (reconcile-gateway --record) and its unexplained differences.
import { get } from './api.js';
import { command, h, moment, notice, orderLink, table } from './dom.js';

function internalReport(report, ranAt) {
  const found = report.checks.filter((check) => check.status !== 'ok');
  return h(
    'div',
    { class: 'report' },
    h(
      'p',
      {},
      'Run at ',
      moment(ranAt),
      ' (report as of ',
      moment(report.generatedAt),
      `, ${report.elapsedMs} ms): `,
      report.clean
        ? h('span', { class: 'verdict verdict-applied' }, 'clean')
        : h(
            'span',
            { class: 'verdict verdict-rejected' },
            `${found.length} check${found.length === 1 ? '' : 's'} found discrepancies`,
          ),
    ),
    table(
      'Checks with discrepancies',
      ['Check', 'Found', 'Examples', 'What to do'],
      found.map((check) => [
        h('code', {}, check.name),
        { value: String(check.count), class: 'number' },
        h(
          'ul',
          { class: 'examples' },
          check.examples.map((example) => h('li', {}, `${example.subject}: ${example.problem}`)),
        ),
        check.action,
      ]),
      { empty: 'Every check passed.' },
    ),
  );
}

function internalSection(last) {
  const body = h('div', { id: 'internal-reconciliation' });
  const render = (current) => {
    body.replaceChildren(
      h(
        'p',
        { class: 'help' },
        'The worker does not store reconciliation runs. This is the last run made through this worker’s API since it started at ',
        moment(current.keptSince),
        ' (kept in memory). ',
        command('npm run reconcile'),
        ' prints the same report.',
      ),
      current.report
        ? internalReport(current.report, current.ranAt)
        : h('p', {}, 'Not run since the worker started.'),
      h(
        'button',
        { type: 'button', id: 'run-reconciliation', onclick: run },
        'Run reconciliation now',
      ),
    );
  };
  async function run(event) {
    const button = event.currentTarget;
    button.disabled = true;
    button.textContent = 'Running… (a full scan: it can take a while on a large ledger)';
    try {
      await get('/reconciliation');
      render(await get('/reconciliation/last'));
      document.getElementById('run-reconciliation')?.focus();
    } catch (failure) {
      body.append(notice('error', `Reconciliation failed: ${failure.message}`));
      button.disabled = false;
      button.textContent = 'Run reconciliation now';
    }
  }
  render(last);
  return body;
}

function side(value) {
  return value ? `${value.amount} ${value.currency}` : '—';
}

function gatewaySection(gateway) {
  return [
    table(
      'Last recorded run of each gateway',
      [
        'Gateway',
        'Recorded',
        'File',
        'Window',
        'Lines',
        'Matched',
        'Differences',
        'Unexplained now',
      ],
      gateway.lastRuns.map((run) => [
        run.gateway,
        moment(run.recordedAt),
        `${run.file} (${run.format})`,
        [moment(run.window.from), ' – ', moment(run.window.to)],
        { value: String(run.linesRead), class: 'number' },
        { value: String(run.matched), class: 'number' },
        { value: String(run.differences), class: 'number' },
        { value: String(run.unexplainedNow), class: 'number' },
      ]),
      {
        empty: 'No recorded gateway reconciliation: run escrow-worker reconcile-gateway --record.',
      },
    ),
    table(
      'Unexplained differences of those runs',
      ['Id', 'Gateway', 'Kind', 'Type', 'Reference', 'Report', 'Ledger', 'Explain'],
      gateway.unexplained.map((difference) => [
        difference.differenceId,
        difference.gateway,
        [difference.kind, difference.isNew ? h('span', { class: 'warn' }, ' new') : ''],
        difference.type,
        h('code', {}, difference.gatewayReference),
        side(difference.file),
        [
          side(difference.ledger),
          difference.ledger?.orderId ? [' · ', orderLink(difference.ledger.orderId)] : '',
        ],
        command(difference.explainCommand),
      ]),
      { empty: 'Nothing unexplained.' },
    ),
  ];
}

export function reconciliationSection(last, gateway) {
  return h(
    'section',
    { 'aria-labelledby': 'reconciliation-heading' },
    h('h2', { id: 'reconciliation-heading' }, 'Reconciliation'),
    h('h3', {}, 'Internal (the ledger against itself)'),
    internalSection(last),
    h('h3', {}, 'Gateways (their reports against the ledger)'),
    gatewaySection(gateway),
  );
}
