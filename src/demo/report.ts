/**
 * What the demo prints after each step: every milestone's state and
 * balances (from the order view the operations API serves), the ledger
 * transactions the step posted, and the outcomes published, as read back
 * from Kafka. Amounts stay the decimal strings of the wire; nothing here
 * does arithmetic on money.
 */
import type { LedgerTransactionView, OrderView } from '../views/order-view';
import type { PublishedOutcome } from './outcome-listener';
import { renderTable } from '../format/text-table';

export function milestoneTable(view: OrderView): string[] {
  const rows = view.milestones.map((m) => [
    m.milestoneId,
    m.state,
    String(m.version),
    m.amount,
    m.funded,
    m.held,
    m.disputed,
    m.released,
    m.fees,
    m.refunded,
  ]);
  const amount = (title: string) => ({ title, align: 'right' as const });
  const lines = renderTable(
    [
      { title: 'milestone' },
      { title: 'state' },
      amount('version'),
      amount('amount'),
      amount('funded'),
      amount('held'),
      amount('disputed'),
      amount('released'),
      amount('fees'),
      amount('refunded'),
    ],
    rows,
  );
  // The audit trail keeps the original intent; say so where the worth changed.
  for (const m of view.milestones) {
    if (m.amount !== m.originalAmount) {
      lines.push(
        `(${m.milestoneId} is now worth ${m.amount}; it was opened at ${m.originalAmount})`,
      );
    }
    if (m.state === 'AWAITING_RELEASE' && m.inspectionDeadline !== null) {
      lines.push(`(${m.milestoneId}: inspection period ends at ${m.inspectionDeadline})`);
    }
  }
  return lines;
}

/** "ESCROW_HOLD:USD:kitchen-1:m1-design" → "escrow hold m1-design": the ids the reader knows. */
function accountName(code: string, kind: string): string {
  const parts = code.split(':').map(decodeURIComponent);
  const scope =
    kind === 'ESCROW_HOLD' || kind === 'DISPUTED_FUNDS' ? parts.slice(3) : parts.slice(2);
  return [kind.toLowerCase().replaceAll('_', ' '), ...scope].join(' ');
}

/** One row per entry, so a four-way split reads as four lines that visibly sum to zero. */
export function ledgerTable(transactions: readonly LedgerTransactionView[]): string[] {
  if (transactions.length === 0) return ['(no ledger transaction: no money moved)'];
  const rows = transactions.flatMap((t) =>
    t.entries.map((e, index) => [
      index === 0 ? `#${t.transactionId}` : '',
      index === 0 ? t.kind : '',
      index === 0 ? (t.milestoneId ?? '-') : '',
      accountName(e.account, e.accountKind),
      e.amount.startsWith('-') ? e.amount : `+${e.amount}`,
    ]),
  );
  return renderTable(
    [
      { title: 'txn' },
      { title: 'kind' },
      { title: 'milestone' },
      { title: 'account' },
      { title: 'amount', align: 'right' },
    ],
    rows,
  );
}

const text = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

/** A decimal string above zero ("900.00"); "0.00", null and absent are not. */
const isPositiveAmount = (value: unknown) => typeof value === 'string' && /[1-9]/.test(value);

function details(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const raw = value.details;
  if (typeof raw !== 'string') return {};
  return JSON.parse(raw) as Record<string, unknown>;
}

/** The few facts of an outcome a reader needs to follow the money. */
function describe(outcome: PublishedOutcome): string {
  const v = outcome.value;
  const d = details(v);
  const retried = text(v.causeEventId).startsWith('retry:')
    ? ` (asks again for ${text(v.causeEventId).slice('retry:'.length)})`
    : '';
  switch (v.type) {
    case 'PAYOUT_REQUESTED': {
      // recoveredAmount 0.00 (or null, before receivables existed) nets nothing: not worth a word.
      const netted = isPositiveAmount(v.recoveredAmount)
        ? ` + recovered ${text(v.recoveredAmount)}`
        : '';
      return `gross ${text(v.grossAmount)} = fee ${text(v.feeAmount)}${netted} + net ${text(v.netAmount)} to ${text(v.providerId)}${retried}`;
    }
    case 'REFUND_REQUESTED': {
      const references = Array.isArray(v.gatewayReferences) ? v.gatewayReferences : [];
      return `${text(v.amount)} back to ${text(v.buyerId)}, reason ${text(v.reason)}, via ${references.map(text).join(', ')}${retried}`;
    }
    case 'EVENT_REJECTED':
      return `reason ${text(v.reason)}: ${text(v.message)}`;
    case 'ORDER_OPENED':
      return `order ${text(v.state)} in ${text(v.currency)}`;
    case 'PAYOUT_SETTLED':
    case 'REFUND_SETTLED':
      return `${text(d.settledAmount)} paid to ${text(d.partyId)} for request ${text(d.settledOutcomeId)}`;
    case 'PAYOUT_FAILED':
    case 'REFUND_FAILED':
      return `${text(d.settledAmount)} not paid (${text(d.failureReason)}), still payable; request ${text(d.settledOutcomeId)} FAILED`;
    case 'CHARGEBACK_APPLIED':
      return (
        `${text(d.chargebackAmount)} charged back = from held ${text(d.fromHeld)} + disputed ` +
        `${text(d.fromDisputed)} + fee reversed ${text(d.feeReversed)} + receivable ` +
        `${text(d.receivable)} + platform ${text(d.fromPlatform)}; state ${text(v.state)}`
      );
  }
  const facts = [`state ${text(v.state)}`];
  if (d.appliedAmount !== undefined) facts.push(`payment applied ${text(d.appliedAmount)}`);
  // A deadline at the moment of reaching is no inspection period at all: not worth a word.
  if (d.inspectionDeadline && text(d.inspectionDeadline) > text(v.occurredAt)) {
    facts.push(`inspection until ${text(d.inspectionDeadline)}`);
  }
  if (d.finalAmount) facts.push(`finalAmount ${text(d.finalAmount)}`);
  // The refund's reason travels in the record's own `reason` field, not in the details.
  if (d.refundAmount !== undefined) {
    facts.push(`refunded ${text(d.refundAmount)} (${text(v.reason)})`);
  }
  if (d.grossAmount !== undefined) facts.push(`gross ${text(d.grossAmount)}`);
  if (isPositiveAmount(d.recoveredAmount)) {
    facts.push(`recovered ${text(d.recoveredAmount)} for chargebacks`);
  }
  if (v.type === 'DISPUTE_OPENED') facts.push(`disputed ${text(v.disputed)}`);
  if (d.providerAmount !== undefined) {
    facts.push(`provider ${text(d.providerAmount)}, buyer ${text(d.buyerAmount)}`);
  }
  return facts.join(', ');
}

export function outcomeTable(outcomes: readonly PublishedOutcome[]): string[] {
  if (outcomes.length === 0) return ['(nothing published)'];
  return renderTable(
    [{ title: 'topic' }, { title: 'type' }, { title: 'milestone' }, { title: 'what it says' }],
    outcomes.map((outcome) => [
      outcome.topic,
      text(outcome.value.type),
      text(outcome.value.milestoneId) || '-',
      describe(outcome),
    ]),
  );
}
