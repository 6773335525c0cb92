// An order's timeline, oldest first: inbound events, the ledger transactions
// and outcomes they caused, and settlements. Each line links to its cause and
// to what it caused; following a link moves the focus to that line.
import { command, h, moment, notice, table } from './dom.js';

const kindLabels = {
  event: 'Event',
  transaction: 'Ledger',
  outcome: 'Outcome',
  settlement: 'Settlement',
};

function describe(line) {
  switch (line.line) {
    case 'event':
      return [
        h('strong', {}, line.eventId),
        ` on ${line.topic}`,
        line.kafkaPartition === null
          ? ''
          : ` (partition ${line.kafkaPartition}, offset ${line.kafkaOffset})`,
        ' → ',
        h('span', { class: `verdict verdict-${line.outcome.toLowerCase()}` }, line.outcome),
        line.reason ? [' ', h('span', { class: 'reason' }, line.reason)] : '',
        line.kept
          ? h(
              'p',
              { class: 'kept' },
              `Kept at ${line.kept.keptAt}, waiting for ${line.kept.awaiting ?? 'its order'}; `,
              line.kept.replayedAt ? `replayed at ${line.kept.replayedAt}.` : 'not replayed yet.',
              line.kept.failedReason ? ` Its replay failed: ${line.kept.failedReason}.` : '',
            )
          : '',
      ];
    case 'transaction':
      return [
        h('strong', {}, `Transaction ${line.transactionId}`),
        ` ${line.kind}`,
        line.milestoneId ? ` · milestone ${line.milestoneId}` : '',
        line.correctsTransactionId ? ` · corrects transaction ${line.correctsTransactionId}` : '',
        table(
          `Entries of transaction ${line.transactionId}`,
          ['Account', 'Amount', 'Balance after'],
          line.entries.map((entry) => [
            h('code', {}, entry.account),
            { value: `${entry.amount} ${entry.currency}`, class: 'number amount' },
            {
              value: entry.balanceAfter === null ? '—' : `${entry.balanceAfter} ${entry.currency}`,
              class: 'number',
            },
          ]),
          { class: 'entries' },
        ),
      ];
    case 'outcome':
      return [
        h('strong', {}, line.type),
        ` on ${line.topic}`,
        line.milestoneId ? ` · milestone ${line.milestoneId}` : '',
        ' · ',
        line.publishedAt
          ? ['published ', moment(line.publishedAt)]
          : h('span', { class: 'warn' }, 'not published yet'),
        line.request
          ? h(
              'p',
              {},
              `${line.request.kind === 'PAYOUT' ? 'Payout' : 'Refund'} of ${line.request.amount} ${line.request.currency}, now `,
              h(
                'span',
                { class: `verdict verdict-${line.request.state.toLowerCase()}` },
                line.request.state,
              ),
            )
          : '',
        h('p', { class: 'muted' }, `outcomeId ${line.outcomeId}`),
      ];
    case 'settlement':
      return [
        h('strong', {}, `${line.kind === 'PAYOUT' ? 'Payout' : 'Refund'} settled `),
        h('span', { class: `verdict verdict-${line.state.toLowerCase()}` }, line.state),
        ` · ${line.amount} ${line.currency}`,
        line.reference ? ` · ${line.gateway ?? 'gateway'} reference ${line.reference}` : '',
        line.failureReason ? ` · ${line.failureReason}` : '',
        line.state === 'FAILED'
          ? h(
              'p',
              {},
              'Ask for it again: ',
              command(
                `escrow-worker ${line.kind === 'PAYOUT' ? 'payouts' : 'refunds'} retry --outcome ${line.outcomeId}`,
              ),
            )
          : '',
      ];
    default:
      return [];
  }
}

const shortName = (line) =>
  line.line === 'event'
    ? `event ${line.eventId}`
    : line.line === 'transaction'
      ? `transaction ${line.transactionId} (${line.kind})`
      : line.line === 'outcome'
        ? `${line.type} outcome`
        : `settlement ${line.state}`;

/** A link to another line of the page; followed, it focuses that line without reloading. */
function lineLink(target, text, hashOf) {
  return h(
    'a',
    {
      href: hashOf(target.id),
      class: 'line-link',
      onclick: (event) => {
        const element = document.getElementById(`line-${target.id}`);
        if (!element) return;
        event.preventDefault();
        history.replaceState(null, '', hashOf(target.id));
        element.focus();
      },
    },
    text,
  );
}

export function timelineSection(timeline, asOfHash, lineHash) {
  const byId = new Map(timeline.lines.map((line) => [line.id, line]));
  const effects = new Map();
  for (const line of timeline.lines) {
    if (line.causedBy) effects.set(line.causedBy, [...(effects.get(line.causedBy) ?? []), line]);
  }
  const items = timeline.lines.map((line) => {
    const cause = line.causedBy ? byId.get(line.causedBy) : undefined;
    const caused = effects.get(line.id) ?? [];
    return h(
      'li',
      {
        id: `line-${line.id}`,
        class: `line line-${line.line}`,
        tabindex: '-1',
        'data-line': line.id,
      },
      h(
        'div',
        { class: 'line-head' },
        moment(line.at),
        h('span', { class: `kind kind-${line.line}` }, kindLabels[line.line]),
      ),
      h('div', { class: 'line-body' }, describe(line)),
      h(
        'div',
        { class: 'line-links' },
        cause
          ? h('span', {}, 'Caused by ', lineLink(cause, shortName(cause), lineHash))
          : line.line === 'event'
            ? ''
            : h(
                'span',
                { class: 'muted' },
                `Cause ${line.causeEventId ?? line.settlementEventId ?? 'unknown'} is not on this timeline`,
              ),
        caused.length > 0
          ? h(
              'span',
              {},
              'Caused ',
              caused.map((effect, index) => [
                index > 0 ? ', ' : '',
                lineLink(effect, shortName(effect), lineHash),
              ]),
            )
          : '',
        h('a', { href: asOfHash(line.at), class: 'as-of-link' }, 'Balances at this moment'),
      ),
    );
  });
  return h(
    'section',
    { 'aria-labelledby': 'timeline-heading', class: 'timeline-section' },
    h('h2', { id: 'timeline-heading' }, 'Timeline'),
    h(
      'p',
      { class: 'help' },
      'Oldest first. A duplicate delivery (the same event again, same content) leaves no line: the inbox answers it ',
      'without a row and the worker counts it in the metric ',
      h('code', {}, 'escrow_duplicates_absorbed_total'),
      '. Events before the inbox recorded order ids may be missing when nothing else named their order.',
    ),
    timeline.outcomesMayBePruned
      ? notice(
          'warning',
          `This order is older than ${timeline.outboxRetentionDays} days: the outbox keeps published outcomes that long, `,
          'so older outcome lines are gone. Events, ledger transactions and settlements are all here.',
        )
      : '',
    h('ol', { class: 'timeline' }, items),
  );
}
