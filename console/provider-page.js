// The provider page (GET /providers/{id}): per currency what it is owed, what
// is on its way, paid out, failed and what it owes back; its payouts with how
// each was settled, and the command that asks for a failed one again.
import { get } from './api.js';
import { command, h, money, moment, notice, orderLink, show, table } from './dom.js';
import { searchForm } from './order-page.js';

const providerHash = (id) => `#/provider/${encodeURIComponent(id)}`;

export function providerSearch() {
  show(
    h('h1', {}, 'Find a provider'),
    h('p', {}, 'What a provider is owed, what is on its way, what was paid and what failed.'),
    searchForm('Provider id', 'e.g. prov-7', providerHash),
  );
  document.getElementById('search-provider-id').focus();
}

const counted = (figure, currency) => ({
  value: [
    money(figure.amount, currency).value,
    h('span', { class: 'count' }, ` (${figure.count})`),
  ],
  class: 'number',
});

export async function providerPage(providerId) {
  const view = await get(`/providers/${encodeURIComponent(providerId)}`);
  show(
    h('h1', {}, 'Provider ', h('span', { class: 'id' }, view.providerId)),
    searchForm('Provider id', 'another provider id', providerHash),
    h(
      'section',
      { 'aria-labelledby': 'money-heading' },
      h('h2', { id: 'money-heading' }, 'Money'),
      table(
        'Per currency',
        [
          'Currency',
          'Payable',
          'In payout (count)',
          'Paid out (count)',
          'Failed (count)',
          'Receivable',
        ],
        view.currencies.map((row) => [
          row.currency,
          money(row.payable, row.currency),
          counted(row.payoutsRequested, row.currency),
          counted(row.paidOut, row.currency),
          counted(row.failedPayouts, row.currency),
          money(row.receivable, row.currency),
        ]),
        { class: 'provider-money' },
      ),
      h(
        'p',
        { class: 'help' },
        'Payable is earned and not paid out yet; payouts in flight and failed ones are part of it. ',
        'Receivable is what chargebacks of released money left the provider owing; later releases net it first.',
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'payouts-heading' },
      h('h2', { id: 'payouts-heading' }, 'Payouts'),
      view.morePayouts
        ? notice('info', `The newest ${view.payouts.length} payouts; older ones are left out.`)
        : '',
      table(
        'Payouts, newest first',
        [
          'Requested',
          'Order',
          'Milestone',
          'Gross',
          'Fee',
          'Recovered',
          'Net',
          'State',
          'Settlement',
        ],
        view.payouts.map((payout) => [
          moment(payout.requestedAt),
          orderLink(payout.orderId),
          payout.milestoneId ?? '—',
          money(payout.grossAmount, payout.currency),
          money(payout.feeAmount, payout.currency),
          money(payout.recoveredAmount, payout.currency),
          money(payout.netAmount, payout.currency),
          h('span', { class: `verdict verdict-${payout.state.toLowerCase()}` }, payout.state),
          settlementCell(payout),
        ]),
        { class: 'payouts', empty: 'No payouts yet.' },
      ),
    ),
  );
}

function settlementCell(payout) {
  if (payout.state === 'REQUESTED') return 'waiting for the payout service';
  return [
    payout.settledAt ? moment(payout.settledAt) : '',
    payout.settlementReference ? ` · ref ${payout.settlementReference}` : '',
    payout.failureReason ? ` · ${payout.failureReason}` : '',
    payout.retriedBy ? ` · asked again as ${payout.retriedBy}` : '',
    payout.state === 'FAILED'
      ? h('div', {}, command(`escrow-worker payouts retry --outcome ${payout.outcomeId}`))
      : '',
  ];
}
