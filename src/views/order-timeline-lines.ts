/**
 * An order's timeline assembled from the rows order-timeline-view.ts reads:
 * one line per inbox row, ledger transaction, outbox row and settled payout
 * or refund, each linked to its cause by the cause's line id, sorted oldest
 * first. Pure: rows in, lines out.
 *
 * Lines stamped by one database transaction share its timestamp (the inbox
 * row, the ledger transaction and the outcomes of one event), so ties are
 * broken cause first: event, transaction, outcome, settlement. A settlement
 * is stamped by the worker's clock, not the database's: it is placed at its
 * settlement event when that event is on the timeline.
 */
import { amountText } from './view-support';

interface LineBase {
  /** "event:<dedupeKey>", "transaction:<id>", "outcome:<outcomeId>", "settlement:<outcomeId>". */
  id: string;
  /** UTC with microseconds. */
  at: string;
  /** The id of the line that caused this one; null when the cause is not on the timeline. */
  causedBy: string | null;
}

export interface EventLine extends LineBase {
  line: 'event';
  eventId: string;
  topic: string;
  dedupeKey: string;
  /** The inbox's verdict: APPLIED, REJECTED, KEPT, UNCHANGED or IDEMPOTENCY_CONFLICT. */
  outcome: string;
  reason: string | null;
  kafkaPartition: number | null;
  kafkaOffset: string | null;
  /** Set when the event arrived before what it needs and was kept. */
  kept: {
    keptId: string;
    keptAt: string;
    replayedAt: string | null;
    failedReason: string | null;
    awaiting: string | null;
  } | null;
}

export interface TransactionLine extends LineBase {
  line: 'transaction';
  transactionId: string;
  kind: string;
  milestoneId: string | null;
  causeEventId: string;
  causeTopic: string;
  correctsTransactionId: string | null;
  memo: unknown;
  entries: {
    entryId: string;
    account: string;
    accountKind: string;
    currency: string;
    amount: string;
    balanceAfter: string | null;
  }[];
}

export interface OutcomeLine extends LineBase {
  line: 'outcome';
  outcomeId: string;
  topic: string;
  type: string;
  milestoneId: string | null;
  causeEventId: string | null;
  ledgerTransactionId: string | null;
  /** Null while the relay has not published it. */
  publishedAt: string | null;
  /** Payout and refund requests: what became of the request, as it stands now. */
  request: { kind: string; state: string; amount: string; currency: string } | null;
}

export interface SettlementLine extends LineBase {
  line: 'settlement';
  /** The payout or refund request settled: its outcome line is "outcome:<outcomeId>". */
  outcomeId: string;
  kind: string;
  state: string;
  currency: string;
  amount: string;
  failureReason: string | null;
  gateway: string | null;
  reference: string | null;
  settlementEventId: string | null;
  /** The failed request this one asks for again (an operator's retry). */
  retryOf: string | null;
}

export type TimelineLine = EventLine | TransactionLine | OutcomeLine | SettlementLine;

export interface TimelineRows {
  events: {
    dedupe_key: string;
    event_id: string;
    topic: string;
    kafka_partition: number | null;
    kafka_offset: string | null;
    outcome: string;
    reason: string | null;
    at: string;
    kept_id: string | null;
    kept_at: string | null;
    replayed_at: string | null;
    failed_reason: string | null;
    awaiting: string | null;
  }[];
  transactions: {
    transaction_id: string;
    kind: string;
    milestone_id: string | null;
    cause_event_id: string;
    cause_topic: string;
    corrects_transaction_id: string | null;
    memo: unknown;
    at: string;
    entry_id: string;
    account: string;
    account_kind: string;
    currency: string;
    amount_minor: string;
    balance_after_minor: string | null;
  }[];
  outcomes: {
    outcome_id: string;
    topic: string;
    type: string;
    milestone_id: string | null;
    cause_event_id: string | null;
    ledger_transaction_id: string | null;
    at: string;
    published_at: string | null;
  }[];
  disbursements: {
    outcome_id: string;
    kind: string;
    milestone_id: string | null;
    currency: string;
    amount_minor: string;
    state: string;
    failure_reason: string | null;
    settlement_gateway: string | null;
    settlement_reference: string | null;
    settlement_event_id: string | null;
    retry_of: string | null;
    requested_at: string;
    settled_at: string | null;
  }[];
}

const rank = { event: 0, transaction: 1, outcome: 2, settlement: 3 } as const;

export function timelineLines(rows: TimelineRows): TimelineLine[] {
  // An event id names its first inbox row (a conflict marker shares the id of the event it refused).
  const eventLineOf = new Map<string, EventLine>();
  const lines: TimelineLine[] = rows.events.map((row) => {
    const line: EventLine = {
      line: 'event',
      id: `event:${row.dedupe_key}`,
      at: row.at,
      causedBy: null,
      eventId: row.event_id,
      topic: row.topic,
      dedupeKey: row.dedupe_key,
      outcome: row.outcome,
      reason: row.reason,
      kafkaPartition: row.kafka_partition,
      kafkaOffset: row.kafka_offset,
      kept:
        row.kept_id === null
          ? null
          : {
              keptId: row.kept_id,
              keptAt: row.kept_at!,
              replayedAt: row.replayed_at,
              failedReason: row.failed_reason,
              awaiting: row.awaiting,
            },
    };
    if (!eventLineOf.has(row.event_id)) eventLineOf.set(row.event_id, line);
    return line;
  });
  const causeOf = (eventId: string | null) =>
    eventId === null ? null : (eventLineOf.get(eventId)?.id ?? null);

  const transactions = new Map<string, TransactionLine>();
  for (const row of rows.transactions) {
    let line = transactions.get(row.transaction_id);
    if (line === undefined) {
      line = {
        line: 'transaction',
        id: `transaction:${row.transaction_id}`,
        at: row.at,
        causedBy: causeOf(row.cause_event_id),
        transactionId: row.transaction_id,
        kind: row.kind,
        milestoneId: row.milestone_id,
        causeEventId: row.cause_event_id,
        causeTopic: row.cause_topic,
        correctsTransactionId: row.corrects_transaction_id,
        memo: row.memo,
        entries: [],
      };
      transactions.set(row.transaction_id, line);
      lines.push(line);
    }
    line.entries.push({
      entryId: row.entry_id,
      account: row.account,
      accountKind: row.account_kind,
      currency: row.currency,
      amount: amountText(row.currency, row.amount_minor),
      balanceAfter:
        row.balance_after_minor === null ? null : amountText(row.currency, row.balance_after_minor),
    });
  }

  const requests = new Map(rows.disbursements.map((row) => [row.outcome_id, row]));
  for (const row of rows.outcomes) {
    const request = requests.get(row.outcome_id);
    const transaction =
      row.ledger_transaction_id === null ? undefined : transactions.get(row.ledger_transaction_id);
    lines.push({
      line: 'outcome',
      id: `outcome:${row.outcome_id}`,
      at: row.at,
      causedBy: transaction?.id ?? causeOf(row.cause_event_id),
      outcomeId: row.outcome_id,
      topic: row.topic,
      type: row.type,
      milestoneId: row.milestone_id,
      causeEventId: row.cause_event_id,
      ledgerTransactionId: row.ledger_transaction_id,
      publishedAt: row.published_at,
      request: request
        ? {
            kind: request.kind,
            state: request.state,
            currency: request.currency,
            amount: amountText(request.currency, request.amount_minor),
          }
        : null,
    });
  }

  for (const row of rows.disbursements) {
    if (row.settled_at === null) continue;
    const cause =
      row.settlement_event_id === null ? undefined : eventLineOf.get(row.settlement_event_id);
    lines.push({
      line: 'settlement',
      id: `settlement:${row.outcome_id}`,
      at: cause?.at ?? row.settled_at,
      causedBy: cause?.id ?? null,
      outcomeId: row.outcome_id,
      kind: row.kind,
      state: row.state,
      currency: row.currency,
      amount: amountText(row.currency, row.amount_minor),
      failureReason: row.failure_reason,
      gateway: row.settlement_gateway,
      reference: row.settlement_reference,
      settlementEventId: row.settlement_event_id,
      retryOf: row.retry_of,
    });
  }

  // Stable: lines of one kind and moment keep the order they were read in (inbox, transaction id, outbox id).
  return lines.sort((a, b) => a.at.localeCompare(b.at) || rank[a.line] - rank[b.line]);
}
