/**
 * The database after the storm, against the suite's own bookkeeping: every
 * valid event in the inbox, every milestone exactly where its scenario ends,
 * every payment received once for its full amount, no second release, no
 * order opened by a rejected event, bad events leaving no ledger trace,
 * every rejection the one expected and no other, the ledger netting to zero.
 * Then the reconciliation report (src/reconcile) over the whole database.
 */
import type { Knex } from 'knex';
import { runReconciliation } from '../../src/reconcile';
import type { SentBadMessage } from './driver';
import type { Findings } from './findings';
import type { OrderScript } from './workload';

const key = (...parts: string[]) => parts.join('\u0001');

export async function checkDatabase(
  db: Knex,
  orders: readonly OrderScript[],
  bad: readonly SentBadMessage[],
  findings: Findings,
): Promise<{ rejections: Map<string, string> }> {
  findings.check('inbox_has_every_event', 'nothing lost: every valid event was handled');
  const inbox = new Set(await db('inbox').pluck<string[]>('dedupe_key'));
  for (const message of orders.flatMap((order) => order.steps.flat())) {
    if (!inbox.has(message.dedupeKey))
      findings.add(
        'inbox_has_every_event',
        `${message.dedupeKey} (${message.topic}) never reached the inbox`,
      );
  }

  findings.check(
    'milestones_as_expected',
    'every effect present, none twice: each milestone ends exactly as its scenario says',
  );
  const rows = await db('milestones').select<Record<string, string>[]>(
    'order_id',
    'milestone_id',
    'state',
    'funded_minor',
    'held_minor',
    'disputed_minor',
    'released_minor',
    'fees_minor',
    'refunded_minor',
  );
  const byId = new Map(rows.map((row) => [key(row.order_id!, row.milestone_id!), row]));
  for (const expected of orders.flatMap((order) => order.milestones)) {
    const row = byId.get(key(expected.orderId, expected.milestoneId));
    const name = `${expected.orderId}/${expected.milestoneId} (${expected.scenario})`;
    if (!row) {
      findings.add('milestones_as_expected', `${name} does not exist`);
      continue;
    }
    const wrong = (['funded', 'held', 'disputed', 'released', 'fees', 'refunded'] as const)
      .filter((field) => BigInt(row[`${field}_minor`]!) !== expected[field])
      .map((field) => `${field} ${row[`${field}_minor`]} instead of ${expected[field]}`);
    if (row.state !== expected.state)
      wrong.unshift(`state ${row.state} instead of ${expected.state}`);
    if (wrong.length > 0)
      findings.add('milestones_as_expected', `${name}: ${wrong.join(', ')} (minor units)`);
  }

  findings.check('no_order_from_bad_input', 'no rejected or malformed event opened an order');
  const expectedOrders = new Set(orders.map((order) => order.orderId));
  for (const orderId of await db('orders').pluck<string[]>('order_id')) {
    if (!expectedOrders.has(orderId))
      findings.add(
        'no_order_from_bad_input',
        `order ${orderId.slice(0, 80)} exists but was never validly opened`,
      );
  }

  findings.check(
    'payments_received_once',
    'each gateway payment reached the ledger exactly once, for its whole amount',
  );
  const received = await db.raw<{
    rows: { gateway: string; reference: string; received: string }[];
  }>(`
    SELECT t.memo->>'gateway' AS gateway, t.memo->>'gatewayReference' AS reference, -sum(e.amount_minor) AS received
      FROM ledger_transactions t
      JOIN ledger_entries e ON e.transaction_id = t.transaction_id
      JOIN accounts a ON a.account_id = e.account_id
     WHERE a.kind = 'GATEWAY_CLEARING'
       -- What money left or came back through settlements is check-settlements.ts's to check.
       AND t.kind NOT IN ('PAYOUT_SETTLEMENT', 'REFUND_SETTLEMENT', 'CHARGEBACK', 'CHARGEBACK_REVERSAL')
     GROUP BY 1, 2`);
  const ledger = new Map(
    received.rows.map((row) => [key(row.gateway, row.reference), BigInt(row.received)]),
  );
  for (const payment of orders.flatMap((order) => order.payments)) {
    const got = ledger.get(key(payment.gateway, payment.reference));
    ledger.delete(key(payment.gateway, payment.reference));
    if (got !== payment.amount) {
      findings.add(
        'payments_received_once',
        `${payment.gateway}/${payment.reference}: ${String(got ?? 0n)} received in the ledger, ${payment.amount} paid (${payment.currency} minor units)`,
      );
    }
  }
  for (const [unexpected, amount] of ledger) {
    findings.add(
      'payments_received_once',
      `${unexpected.replace('\u0001', '/')} received ${amount} but no valid payment has that reference`,
    );
  }

  findings.check('no_double_release', 'no milestone was released or resolved twice');
  const twice = await db('ledger_transactions')
    .whereIn('kind', ['RELEASE', 'DISPUTE_RESOLUTION'])
    .groupBy('order_id', 'milestone_id')
    .havingRaw('count(*) > 1')
    .select<{ order_id: string; milestone_id: string; n: string }[]>(
      'order_id',
      'milestone_id',
      db.raw('count(*) AS n'),
    );
  for (const row of twice)
    findings.add(
      'no_double_release',
      `${row.order_id}/${row.milestone_id} released ${row.n} times`,
    );

  findings.check('ledger_nets_to_zero', 'the whole ledger nets to zero in every currency');
  const off = await db('ledger_entries')
    .groupBy('currency')
    .havingRaw('sum(amount_minor) <> 0')
    .select<{ currency: string; net: string }[]>('currency', db.raw('sum(amount_minor) AS net'));
  for (const row of off)
    findings.add('ledger_nets_to_zero', `${row.currency} is off by ${row.net} minor units`);

  const rejections = await checkRejections(db, orders, bad, findings);

  findings.check('reconciliation_clean', 'every reconciliation check (src/reconcile) passes');
  const report = await runReconciliation(db);
  for (const check of report.checks.filter((c) => c.status !== 'ok')) {
    const example = check.examples[0];
    findings.add(
      'reconciliation_clean',
      `${check.name}: ${check.count} found${example ? `, e.g. ${example.subject}: ${example.problem}` : ''}`,
      check.count,
    );
  }
  return { rejections };
}

/** Exactly the expected EVENT_REJECTED answers, and no ledger trace of any bad event. */
async function checkRejections(
  db: Knex,
  orders: readonly OrderScript[],
  bad: readonly SentBadMessage[],
  findings: Findings,
) {
  findings.check(
    'rejections_as_expected',
    'each refused event answered EVENT_REJECTED with its reason, and no valid event was refused',
  );
  const expected = new Map<string, string>();
  for (const rejection of orders.flatMap((order) => order.rejections))
    expected.set(rejection.eventId, rejection.reason);
  for (const message of bad) {
    if (typeof message.expect === 'object' && message.eventId)
      expected.set(message.eventId, message.expect.rejected);
  }
  const answered = await db('outbox')
    .where({ type: 'EVENT_REJECTED' })
    .select<{ cause: string; reason: string }[]>(
      db.raw("payload->>'causeEventId' AS cause"),
      db.raw("payload->>'reason' AS reason"),
    );
  const got = new Map(answered.map((row) => [row.cause, row.reason]));
  for (const [eventId, reason] of expected) {
    const actual = got.get(eventId);
    if (actual !== reason)
      findings.add(
        'rejections_as_expected',
        `${eventId}: expected EVENT_REJECTED ${reason}, got ${actual ?? 'no rejection'}`,
      );
  }
  for (const [eventId, reason] of got) {
    if (!expected.has(eventId))
      findings.add('rejections_as_expected', `valid event ${eventId} was rejected: ${reason}`);
  }

  findings.check('bad_events_left_no_trace', 'no malformed or refused event moved money');
  const badIds = bad.flatMap((message) => (message.eventId ? [message.eventId] : []));
  const traces =
    badIds.length === 0
      ? []
      : await db('ledger_transactions')
          .whereIn('cause_event_id', badIds)
          .select<{ cause_event_id: string; kind: string }[]>('cause_event_id', 'kind');
  for (const trace of traces)
    findings.add(
      'bad_events_left_no_trace',
      `${trace.cause_event_id} posted a ${trace.kind} transaction`,
    );
  return got;
}
