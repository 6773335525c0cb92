// The order page: its milestones now (GET /orders/{id}) or as of a moment
// (?asOf=, read back from the ledger), and its timeline
// (GET /orders/{id}/timeline), every line linked to the line that caused it.
import { get } from './api.js';
import { h, money, moment, notice, providerLink, show, table } from './dom.js';
import { timelineSection } from './timeline.js';

export function searchForm(label, placeholder, toHash, value = '') {
  const id = `search-${label.toLowerCase().replace(/\W+/g, '-')}`;
  const input = h('input', {
    id,
    name: 'id',
    type: 'search',
    required: true,
    placeholder,
    value,
    autocomplete: 'off',
  });
  return h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        const given = input.value.trim();
        if (given !== '') location.hash = toHash(given);
      },
    },
    h('label', { for: id }, label),
    input,
    h('button', { type: 'submit' }, 'Show'),
  );
}

const orderHash = (orderId, query = '') => `#/order/${encodeURIComponent(orderId)}${query}`;

export function orderSearch() {
  show(
    h('h1', {}, 'Find an order'),
    h(
      'p',
      {},
      'Where is the money of an order? Its milestones, balances and everything that happened to it.',
    ),
    searchForm('Order id', 'e.g. ord-1042', (id) => orderHash(id)),
  );
  document.getElementById('search-order-id').focus();
}

const milestoneHeaders = [
  'Milestone',
  'State',
  'Amount',
  'Funded',
  'Held',
  'Disputed',
  'Released (gross)',
  'Fees',
  'Refunded',
];

function milestonesNow(order) {
  return table(
    'Milestones now',
    milestoneHeaders,
    order.milestones.map((row) => [
      row.milestoneId,
      h('span', { class: `state state-${row.state.toLowerCase()}` }, row.state),
      money(row.amount, order.currency),
      money(row.funded, order.currency),
      money(row.held, order.currency),
      money(row.disputed, order.currency),
      money(row.released, order.currency),
      money(row.fees, order.currency),
      money(row.refunded, order.currency),
    ]),
    { class: 'milestones' },
  );
}

function milestonesAsOf(order) {
  return table(
    `Milestones as of ${order.asOf}`,
    [
      'Milestone',
      'Original amount',
      'Funded',
      'Held',
      'Disputed',
      'Released (gross)',
      'Fees',
      'Refunded',
    ],
    order.milestones.map((row) => [
      row.milestoneId,
      money(row.originalAmount, order.currency),
      money(row.funded, order.currency),
      money(row.held, order.currency),
      money(row.disputed, order.currency),
      money(row.released, order.currency),
      money(row.fees, order.currency),
      money(row.refunded, order.currency),
    ]),
    { class: 'milestones as-of' },
  );
}

export async function orderPage(orderId, query) {
  const asOf = query.get('asOf');
  const path = `/orders/${encodeURIComponent(orderId)}`;
  const [now, timeline, past] = await Promise.all([
    get(path),
    get(`${path}/timeline`),
    asOf ? get(`${path}?asOf=${encodeURIComponent(asOf)}`) : Promise.resolve(undefined),
  ]);
  const summary = h(
    'dl',
    { class: 'summary' },
    h('div', {}, h('dt', {}, 'Buyer'), h('dd', {}, now.buyerId)),
    h('div', {}, h('dt', {}, 'Provider'), h('dd', {}, providerLink(now.providerId))),
    h('div', {}, h('dt', {}, 'Currency'), h('dd', {}, now.currency)),
    h('div', {}, h('dt', {}, 'State'), h('dd', {}, h('span', { class: 'state' }, now.state))),
    h('div', {}, h('dt', {}, 'Opened'), h('dd', {}, moment(timeline.openedAt))),
  );
  const balances = past
    ? [
        notice(
          'info',
          h('strong', {}, `Balances as of ${past.asOf}`),
          ', read back from the append-only ledger (transactions stamped at or before that moment). ',
          'The ledger holds money, not the milestones’ lifecycle, so no state is shown. ',
          h('a', { href: orderHash(orderId) }, 'Back to the balances of now'),
        ),
        milestonesAsOf(past),
      ]
    : [milestonesNow(now)];
  show(
    h('h1', {}, 'Order ', h('span', { class: 'id', id: 'order-id' }, now.orderId)),
    searchForm('Order id', 'another order id', (id) => orderHash(id), ''),
    summary,
    h(
      'section',
      { 'aria-labelledby': 'balances-heading' },
      h('h2', { id: 'balances-heading' }, 'Balances'),
      balances,
    ),
    timelineSection(
      timeline,
      (lineAt) => orderHash(orderId, `?asOf=${encodeURIComponent(lineAt)}`),
      (lineId) =>
        orderHash(orderId, `?${new URLSearchParams({ ...(asOf ? { asOf } : {}), line: lineId })}`),
    ),
  );
  const line = query.get('line');
  if (line) document.getElementById(`line-${line}`)?.focus();
}
