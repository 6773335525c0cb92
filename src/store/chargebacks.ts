/**
 * The chargebacks table's SQL: what a slice reads (the chargebacks of the
 * orders its settlements name, and every receivable still outstanding for
 * the providers it may release to) and the rows it writes back (new
 * chargebacks, more recovered, reversed), a changed row only while it still
 * holds what the slice read.
 */
import type { Knex } from 'knex';
import { prepared, Recordset } from '../db/columns';
import { type Chargeback, paymentKey } from '../domain/escrow';
import { money } from '../domain/money';

interface ChargebackRecord {
  gateway: string;
  gateway_reference: string;
  order_id: string;
  milestone_id: string | null;
  provider_id: string;
  buyer_id: string;
  currency: string;
  amount_minor: string;
  from_held_minor: string;
  from_disputed_minor: string;
  fee_reversed_minor: string;
  receivable_minor: string;
  from_platform_minor: string;
  recovered_minor: string;
  reversed: boolean;
}

/**
 * The chargebacks of `orderIds`, and the outstanding ones of `providerIds`,
 * oldest first, read without a lock. A provider's receivables are shared by
 * all of its orders, so by slices of other lanes too: locking them here held
 * them from the start of the transaction to its commit, and every other
 * release of that provider waited all that time, though most net nothing
 * from the same row. Instead the write of a changed row is guarded by the
 * values read here (updateChargebacksSql): a receivable another transaction
 * netted or reversed meanwhile fails the guard, and the whole transaction is
 * decided again on the row as it now is (ChargebackMoved), so it is netted
 * once. A row read but left unchanged needs no guard: what a decision takes
 * from a chargeback (a receivable netted, a reversal) it writes back; and a
 * receivable created meanwhile is not seen, as if this slice had run first.
 */
export async function loadChargebacks(
  trx: Knex.Transaction,
  orderIds: readonly string[],
  providerIds: readonly string[],
): Promise<Map<string, Chargeback>> {
  const found = new Map<string, Chargeback>();
  if (orderIds.length === 0 && providerIds.length === 0) return found;
  const { rows } = await prepared<{ rows: ChargebackRecord[] }>(
    trx,
    'slice_chargebacks',
    `SELECT gateway, gateway_reference, order_id, milestone_id, provider_id, buyer_id, currency,
       amount_minor::text, from_held_minor::text, from_disputed_minor::text,
       fee_reversed_minor::text, receivable_minor::text, from_platform_minor::text,
       recovered_minor::text, reversed
     FROM chargebacks
     WHERE order_id = ANY(?::text[])
        OR (provider_id = ANY(?::text[]) AND recovered_minor < receivable_minor AND NOT reversed)
     ORDER BY chargeback_id`,
    [[...new Set(orderIds)], [...new Set(providerIds)]],
  );
  for (const row of rows) {
    const currency = row.currency.trim();
    const amount = (minor: string) => money(currency, BigInt(minor));
    const key = paymentKey(row.gateway, row.gateway_reference);
    found.set(key, {
      paymentKey: key,
      gateway: row.gateway,
      gatewayReference: row.gateway_reference,
      orderId: row.order_id,
      milestoneId: row.milestone_id,
      providerId: row.provider_id,
      buyerId: row.buyer_id,
      amount: amount(row.amount_minor),
      fromHeld: amount(row.from_held_minor),
      fromDisputed: amount(row.from_disputed_minor),
      feeReversed: amount(row.fee_reversed_minor),
      receivable: amount(row.receivable_minor),
      fromPlatform: amount(row.from_platform_minor),
      recovered: amount(row.recovered_minor),
      reversed: row.reversed,
    });
  }
  return found;
}

/** A chargeback as a slice leaves it, with the ids of the events and transactions that made it. */
export interface ChargebackWrite {
  readonly chargeback: Chargeback;
  /** Not in the table before this slice. */
  readonly created: boolean;
  /**
   * A changed chargeback as the slice read it: its update matches only while
   * the row still holds this (see updateChargebacksSql). Absent for a created
   * one, and for a writer that is the table's only one (the bench's database
   * floor), whose update is unguarded.
   */
  readonly read?: Chargeback;
  event_id: string | null;
  ledger_transaction_id: string | null;
  reversal_event_id: string | null;
  reversal_ledger_transaction_id: string | null;
}

/** A chargeback as the slice's write binds it (createdChargebackRows, changedChargebackRows). */
export type ChargebackWriteRecord = ReturnType<typeof chargebackRecord>;

export function chargebackRecord(write: ChargebackWrite, now: Date) {
  const { chargeback } = write;
  return {
    gateway: chargeback.gateway,
    gateway_reference: chargeback.gatewayReference,
    order_id: chargeback.orderId,
    milestone_id: chargeback.milestoneId,
    provider_id: chargeback.providerId,
    buyer_id: chargeback.buyerId,
    currency: chargeback.amount.currency,
    amount_minor: chargeback.amount.minor.toString(),
    from_held_minor: chargeback.fromHeld.minor.toString(),
    from_disputed_minor: chargeback.fromDisputed.minor.toString(),
    fee_reversed_minor: chargeback.feeReversed.minor.toString(),
    receivable_minor: chargeback.receivable.minor.toString(),
    from_platform_minor: chargeback.fromPlatform.minor.toString(),
    recovered_minor: chargeback.recovered.minor.toString(),
    reversed: chargeback.reversed,
    read_recovered_minor: write.read?.recovered.minor.toString() ?? null,
    read_reversed: write.read?.reversed ?? null,
    event_id: write.event_id,
    ledger_transaction_id: write.ledger_transaction_id,
    reversal_event_id: write.reversal_event_id,
    reversal_ledger_transaction_id: write.reversal_ledger_transaction_id,
    at: now,
  };
}

/** The parameters of the two statements below: chargebackRecord()s (src/db/columns.ts). */
export const createdChargebackRows = new Recordset<ChargebackWriteRecord>(
  'chargeback',
  `gateway text, gateway_reference text, order_id text, milestone_id text, provider_id text,
    buyer_id text, currency text, amount_minor bigint, from_held_minor bigint,
    from_disputed_minor bigint, fee_reversed_minor bigint, receivable_minor bigint,
    from_platform_minor bigint, recovered_minor bigint, reversed boolean, event_id text,
    ledger_transaction_id bigint, reversal_event_id text, reversal_ledger_transaction_id bigint,
    at timestamptz`,
);
export const changedChargebackRows = new Recordset<ChargebackWriteRecord>(
  'changed',
  `gateway text, gateway_reference text, recovered_minor bigint, reversed boolean,
    read_recovered_minor bigint, read_reversed boolean, reversal_event_id text,
    reversal_ledger_transaction_id bigint, at timestamptz`,
);

/** New chargebacks (a CTE of the slice's write). */
export const insertChargebacksSql = `
  INSERT INTO chargebacks (gateway, gateway_reference, order_id, milestone_id, provider_id, buyer_id,
    currency, amount_minor, from_held_minor, from_disputed_minor, fee_reversed_minor, receivable_minor,
    from_platform_minor, recovered_minor, reversed, event_id, ledger_transaction_id, reversal_event_id,
    reversal_ledger_transaction_id, charged_back_at, reversed_at)
  SELECT gateway, gateway_reference, order_id, milestone_id, provider_id, buyer_id, currency,
    amount_minor, from_held_minor, from_disputed_minor, fee_reversed_minor, receivable_minor,
    from_platform_minor, recovered_minor, reversed, event_id, ledger_transaction_id, reversal_event_id,
    reversal_ledger_transaction_id, at, CASE WHEN reversed THEN at END
  FROM ${createdChargebackRows.sql}`;

/**
 * Chargebacks read by the slice and changed by it: more recovered, or
 * reversed. Optimistic: a row is updated only if its recovered amount and
 * reversal are still what the slice read (read_recovered_minor,
 * read_reversed), the only columns that change after a chargeback is
 * created. A concurrent writer's update makes this one wait for its commit,
 * then re-check the guard on the new row version (READ COMMITTED) and skip
 * it; the caller counts the rows updated and throws ChargebackMoved for one
 * missing, so nothing is netted twice or lost.
 */
export const updateChargebacksSql = `
  UPDATE chargebacks SET recovered_minor = changed.recovered_minor, reversed = changed.reversed,
    reversal_event_id = COALESCE(changed.reversal_event_id, chargebacks.reversal_event_id),
    reversal_ledger_transaction_id = COALESCE(changed.reversal_ledger_transaction_id,
      chargebacks.reversal_ledger_transaction_id),
    reversed_at = CASE WHEN changed.reversed AND NOT chargebacks.reversed THEN changed.at
      ELSE chargebacks.reversed_at END
  FROM ${changedChargebackRows.sql}
  WHERE chargebacks.gateway = changed.gateway AND chargebacks.gateway_reference = changed.gateway_reference
    AND (changed.read_recovered_minor IS NULL
      OR (chargebacks.recovered_minor = changed.read_recovered_minor
        AND chargebacks.reversed = changed.read_reversed))`;

/**
 * Chargebacks changed by another transaction between a slice's read of them
 * and its write (another lane's release netted the same receivable, or its
 * order's reversal): retryable. The whole transaction rolls back and is
 * decided again on the rows as they now are, so a receivable is netted once.
 */
export class ChargebackMoved extends Error {
  readonly code = 'CHARGEBACK_MOVED';
  readonly retryable = true;
  constructor(readonly chargebacks: number) {
    super(
      `${chargebacks} chargeback(s) changed (netted or reversed) by another transaction since ` +
        'this one read them; it is rolled back and retried on the rows as they now are',
    );
    this.name = 'ChargebackMoved';
  }
}
