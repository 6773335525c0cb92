/**
 * The load step of a slice: everything its decisions read, one statement
 * each, under the orders' locks. The orders' advisory locks (in code-point
 * order) and row locks first, then the inbox's stored hashes for the slice's
 * keys and conflict markers, the fee policy, the providers' released volumes
 * (only when the policy has tiers), the funding references of known orders,
 * and the events kept for the orders the slice opens.
 */
import type { Knex } from 'knex';
import { prepared } from '../db/columns';
import { isSettlement, paymentKey, type Settle } from '../domain/escrow';
import { money } from '../domain/money';
import { loadChargebacks } from '../store/chargebacks';
import { loadDisbursements } from '../store/disbursements';
import { type StoredOrder } from '../store/orders';
import { lockAndLoadOrders } from '../store/order-writes';
import type { PipelineSettings } from './events';
import { policyInForceAt } from './fee-context';
import { conflictKey } from './idempotency-conflict';
import {
  addFunding,
  emptySliceState,
  type KeyedEvent,
  keptFor,
  type SliceOptions,
  type SliceState,
  type StoredKeptRow,
} from './slice';

export async function loadSlice(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  keyed: readonly KeyedEvent[],
  options: SliceOptions,
): Promise<SliceState> {
  const now = settings.now();
  const stored = await lockAndLoadOrders(
    trx,
    keyed.map((item) => item.event.command.orderId),
  );
  const state: SliceState = {
    ...emptySliceState(now, await policyInForceAt(trx, now, settings.defaultFeeRate)),
    storedHashes: await storedHashes(trx, keyed),
  };
  await readContext(trx, settings, options, state, stored, keyed);
  return state;
}

/**
 * The stored substance hash of every key of the batch already in the inbox,
 * and of every conflict marker its events would need.
 * Read under the orders' locks; a key first inserted by a concurrent
 * transaction (only possible across orders) makes this batch's own insert
 * fail on the primary key, and the batch goes one event at a time.
 */
async function storedHashes(trx: Knex.Transaction, keyed: readonly KeyedEvent[]) {
  const payments = keyed.flatMap(({ event: { command } }) =>
    command.type === 'PAYMENT_CONFIRMED' ? [command] : [],
  );
  const { rows } = await prepared<{
    rows: { dedupe_key: string; payload_hash: string; from_inbox: boolean }[];
  }>(
    trx,
    'batch_inbox_hashes',
    // A payment is also found by its payments row, whatever key its inbox row has: a
    // worker of the version before keys were JSON (still running during a rolling
    // upgrade) files it under "payment:<gateway>:<reference>", which this version never
    // looks up. The key built here is dedupeKey's (the migration builds it the same way).
    `SELECT dedupe_key, payload_hash, true AS from_inbox FROM inbox WHERE dedupe_key = ANY(?::text[])
     UNION ALL
     SELECT 'payment:[' || to_json(p.gateway)::text || ',' || to_json(p.gateway_reference)::text || ']',
            p.payload_hash, false
     FROM payments p
     JOIN unnest(?::text[], ?::text[]) AS wanted(gateway, gateway_reference)
       ON p.gateway = wanted.gateway AND p.gateway_reference = wanted.gateway_reference`,
    [
      inboxKeysOf(keyed),
      payments.map((payment) => payment.gateway),
      payments.map((payment) => payment.gatewayReference),
    ],
  );
  const hashes = new Map<string, string>();
  for (const row of rows) {
    // The inbox row, when there is one, is the event as this version filed it.
    if (row.from_inbox || !hashes.has(row.dedupe_key)) hashes.set(row.dedupe_key, row.payload_hash);
  }
  return hashes;
}

/** Each event's inbox key and the key of its conflict marker, each once. */
function inboxKeysOf(keyed: readonly KeyedEvent[]): string[] {
  const keys = new Set<string>();
  for (const { key, hash } of keyed) keys.add(key).add(conflictKey(key, hash));
  return [...keys];
}

/** Everything the batch's decisions read, in one statement each. */
async function readContext(
  trx: Knex.Transaction,
  settings: PipelineSettings,
  options: SliceOptions,
  state: SliceState,
  stored: Map<string, StoredOrder>,
  keyed: readonly KeyedEvent[],
) {
  for (const [orderId, { order, milestones }] of stored) {
    state.orders.set(orderId, order);
    state.milestones.set(orderId, milestones);
  }

  const known = [...stored.values()].flatMap(({ order }) => (order ? [order] : []));
  const openers = keyed.flatMap(({ event: { command } }) =>
    command.type === 'ORDER_OPENED' && !state.orders.get(command.orderId) ? [command] : [],
  );
  const providers = [
    ...new Set([...known.map((o) => o.providerId), ...openers.map((c) => c.providerId)]),
  ];
  // Volume only picks a tier: a policy without tiers never reads it.
  if (providers.length > 0 && state.feePolicy.volumeTiers.length > 0) {
    const since = new Date(
      state.now.getTime() - state.feePolicy.volumeWindowDays * 24 * 3600 * 1000,
    );
    const { rows } = await prepared<{
      rows: { provider_id: string; currency: string; total: string }[];
    }>(
      trx,
      'batch_volume',
      `SELECT provider_id, currency, sum(gross_minor)::text AS total FROM releases
       WHERE provider_id = ANY(?::text[]) AND released_at > ?
       GROUP BY provider_id, currency`,
      [providers, since],
    );
    for (const row of rows)
      state.volume.set(`${row.provider_id}/${row.currency}`, BigInt(row.total));
  }
  if (known.length > 0) {
    const { rows } = await prepared<{
      rows: { order_id: string; milestone_id: string; gateway_reference: string }[];
    }>(
      trx,
      'batch_funded',
      `SELECT order_id, milestone_id, gateway_reference FROM payments
       WHERE order_id = ANY(?::text[]) AND status = 'APPLIED' AND milestone_id IS NOT NULL
       ORDER BY payment_id`,
      [known.map((o) => o.orderId)],
    );
    for (const row of rows)
      addFunding(state.fundedBy, row.order_id, row.milestone_id, row.gateway_reference);
  }
  await readSettlementContext(trx, state, keyed, known, providers);
  if (openers.length > 0) {
    const { rows } = await prepared<{ rows: StoredKeptRow[] }>(
      trx,
      'batch_kept',
      `SELECT k.kept_id, k.dedupe_key, k.topic, k.command, i.payload_hash
       FROM kept_events k JOIN inbox i USING (dedupe_key)
       WHERE k.order_id = ANY(?::text[]) AND k.replayed_at IS NULL
       ORDER BY k.kept_id`,
      [[...new Set(openers.map((c) => c.orderId))]],
    );
    let replays = 0;
    for (const row of rows) {
      const { command, occurredAt, partition, offset, traceparent, tracestate } = row.command;
      const failure = options.setAside?.get(row.dedupe_key);
      if (failure !== undefined) {
        // It stays kept, with the reason, for reconciliation; its order opens without it.
        state.failedKept.push({ kept_id: row.kept_id, reason: failure });
        state.storedKept.set(row.dedupe_key, { outcome: 'REJECTED', reason: failure });
        continue;
      }
      if (options.replayLimit !== undefined && replays >= options.replayLimit) continue;
      replays += 1;
      state.storedKept.set(row.dedupe_key, null);
      keptFor(state.kept, command.orderId).push({
        keptId: row.kept_id,
        row: null,
        key: row.dedupe_key,
        hash: row.payload_hash,
        event: {
          topic: row.topic,
          partition,
          offset,
          occurredAt: new Date(occurredAt),
          command,
          traceparent,
          tracestate,
        },
      });
    }
  }
}

/**
 * What settlements decide on, and what releases net: the requests the
 * slice's settlements name, the payments its chargebacks name, the
 * chargebacks of those orders and the providers' outstanding receivables
 * (read without a lock, their writes guarded: see loadChargebacks), and the
 * events kept until one of the slice's payments arrives. Nothing is read for
 * a slice without settlements or payments but the receivables, which every
 * release needs.
 */
async function readSettlementContext(
  trx: Knex.Transaction,
  state: SliceState,
  keyed: readonly KeyedEvent[],
  known: readonly { orderId: string }[],
  providers: readonly string[],
) {
  const settlements: Settle[] = [];
  const paymentKeys: string[] = [];
  for (const { event } of keyed) {
    const { command } = event;
    if (isSettlement(command)) settlements.push(command);
    else if (command.type === 'PAYMENT_CONFIRMED')
      paymentKeys.push(paymentKey(command.gateway, command.gatewayReference));
  }
  const chargebacks = settlements.filter((command) => command.type.startsWith('CHARGEBACK'));
  for (const [id, disbursement] of await loadDisbursements(
    trx,
    settlements.flatMap((command) => (command.outcomeId === null ? [] : [command.outcomeId])),
  ))
    state.disbursements.set(id, disbursement);
  if (chargebacks.length > 0) {
    const { rows } = await prepared<{
      rows: {
        gateway: string;
        gateway_reference: string;
        order_id: string;
        milestone_id: string | null;
        currency: string;
        amount_minor: string;
        applied_minor: string;
      }[];
    }>(
      trx,
      'slice_charged_payments',
      `SELECT p.gateway, p.gateway_reference, p.order_id, p.milestone_id, p.currency,
         p.amount_minor::text, p.applied_minor::text
       FROM payments p
       JOIN unnest(?::text[], ?::text[]) AS wanted(gateway, gateway_reference)
         ON p.gateway = wanted.gateway AND p.gateway_reference = wanted.gateway_reference
       WHERE p.status <> 'PENDING_ORDER'`,
      [chargebacks.map((c) => c.gateway), chargebacks.map((c) => c.gatewayReference)],
    );
    for (const row of rows)
      state.payments.set(paymentKey(row.gateway, row.gateway_reference), {
        gateway: row.gateway,
        gatewayReference: row.gateway_reference,
        orderId: row.order_id,
        milestoneId: row.milestone_id,
        amount: money(row.currency.trim(), BigInt(row.amount_minor)),
        applied: money(row.currency.trim(), BigInt(row.applied_minor)),
      });
  }
  const knownIds = new Set(known.map((order) => order.orderId));
  const read = await loadChargebacks(
    trx,
    chargebacks.flatMap((c) => (knownIds.has(c.orderId) ? [c.orderId] : [])),
    providers,
  );
  for (const [key, chargeback] of read) {
    state.chargebacks.set(key, chargeback);
    state.chargebacksRead.set(key, chargeback);
  }
  if (paymentKeys.length > 0) {
    const { rows } = await prepared<{ rows: (StoredKeptRow & { awaiting: string })[] }>(
      trx,
      'slice_kept_awaiting',
      `SELECT k.kept_id, k.dedupe_key, k.topic, k.command, k.awaiting, i.payload_hash
       FROM kept_events k JOIN inbox i USING (dedupe_key)
       WHERE k.awaiting = ANY(?::text[]) AND k.replayed_at IS NULL AND k.failed_reason IS NULL
       ORDER BY k.kept_id`,
      [[...new Set(paymentKeys)]],
    );
    for (const row of rows) {
      const { command, occurredAt, partition, offset, traceparent, tracestate } = row.command;
      state.storedKept.set(row.dedupe_key, null);
      keptFor(state.keptAwaiting, row.awaiting).push({
        keptId: row.kept_id,
        row: null,
        key: row.dedupe_key,
        hash: row.payload_hash,
        event: {
          topic: row.topic,
          partition,
          offset,
          occurredAt: new Date(occurredAt),
          command,
          traceparent,
          tracestate,
        },
      });
    }
  }
}
