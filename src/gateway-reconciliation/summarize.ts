/**
 * What a match found, read from its temporary tables: the differences
 * (through a cursor, page by page, so a million of them are never held at
 * once), the counts by outcome, the totals per type and currency on each
 * side, and the nets — the file's money in and out against the ledger's
 * gateway-clearing movement — with how much of their difference the listed
 * differences explain and how much the items near the window's edges do.
 */
import type { Knex } from 'knex';
import { type MatchWindow, signOf } from './match';

export type DifferenceKind = 'only_in_file' | 'only_in_ledger' | 'amount_differs' | 'twice_in_file';

export const differenceKinds: readonly DifferenceKind[] = [
  'only_in_file',
  'only_in_ledger',
  'amount_differs',
  'twice_in_file',
];

export interface GatewayDifference {
  readonly kind: DifferenceKind;
  readonly type: string;
  readonly gatewayReference: string;
  /** The file's side: its lines (all copies), amount in minor units, currency, time. */
  readonly file: {
    lines: number[];
    amountMinor: string;
    currency: string;
    occurredAt: string;
  } | null;
  readonly ledger: {
    amountMinor: string;
    currency: string;
    at: string;
    orderId: string | null;
    transactionId: string;
  } | null;
  /** What else is known: a charge whose payment is kept, waiting for its order. */
  readonly note: string | null;
}

interface DifferenceRow {
  kind: DifferenceKind;
  type: string;
  reference: string;
  lines: string[] | null;
  file_minor: string | null;
  file_currency: string | null;
  occurred_at: Date | null;
  ledger_minor: string | null;
  ledger_currency: string | null;
  ledger_at: Date | null;
  order_id: string | null;
  transaction_id: string | null;
  kept_for: string | null;
}

const differencesSql = `WITH differences AS (
       SELECT outcome AS kind, * FROM gateway_result
       WHERE outcome IN ('only_in_file', 'only_in_ledger', 'amount_differs')
       UNION ALL
       SELECT 'twice_in_file', * FROM gateway_result WHERE outcome <> 'edge' AND copies > 1
     )
     SELECT d.kind, d.type, d.reference, d.lines::text[] AS lines, d.file_minor::text,
       d.file_currency, d.occurred_at, d.ledger_minor::text, d.ledger_currency, d.ledger_at,
       d.order_id, d.transaction_id, p.order_id AS kept_for
     FROM differences d
     LEFT JOIN payments p ON d.kind = 'only_in_file' AND d.type = 'charge'
       AND p.gateway = ? AND p.gateway_reference = d.reference AND p.status = 'PENDING_ORDER'
     ORDER BY d.kind COLLATE "C", d.type COLLATE "C", d.reference COLLATE "C"`;

let cursorsDeclared = 0;

/**
 * The differences in (kind, type, reference) order, `pageSize` rows at a time
 * through a cursor in the run's transaction: the database sorts them once
 * and hands them out as they are read, so a million differences are neither
 * held at once nor scanned and sorted again for every page (keyset pages
 * over the unindexed temporary table did that, growing with the square of
 * the differences: 208 s for the million-line test, 34.5 s through the
 * cursor). Each call reads through a cursor of its own; a reader that stops
 * early closes it.
 */
export async function* readDifferences(
  trx: Knex.Transaction,
  gateway: string,
  pageSize = 2000,
): AsyncGenerator<GatewayDifference> {
  const cursor = `gateway_differences_${++cursorsDeclared}`;
  await trx.raw(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${differencesSql}`, [gateway]);
  try {
    for (;;) {
      const { rows } = await trx.raw<{ rows: DifferenceRow[] }>(
        `FETCH FORWARD ${pageSize} FROM ${cursor}`,
      );
      for (const row of rows) yield toDifference(row);
      if (rows.length < pageSize) return;
    }
  } finally {
    // Also when the reader stops early, so the cursor does not hold its sorted
    // rows until the transaction ends. After a failure the transaction is
    // aborted (25P02) and the cursor gone with it (34000): nothing to close,
    // and the failure that ended it is the one to report. Anything else is.
    await trx.raw(`CLOSE ${cursor}`).catch((error: unknown) => {
      const code = (error as { code?: unknown }).code;
      if (code !== '25P02' && code !== '34000') throw error;
    });
  }
}

const toDifference = (row: DifferenceRow): GatewayDifference => ({
  kind: row.kind,
  type: row.type,
  gatewayReference: row.reference,
  file:
    row.file_minor === null
      ? null
      : {
          lines: (row.lines ?? []).map(Number),
          amountMinor: row.file_minor,
          currency: row.file_currency!,
          occurredAt: row.occurred_at!.toISOString(),
        },
  ledger:
    row.ledger_minor === null
      ? null
      : {
          amountMinor: row.ledger_minor,
          currency: row.ledger_currency!,
          at: row.ledger_at!.toISOString(),
          orderId: row.order_id,
          transactionId: row.transaction_id!,
        },
  note:
    row.kept_for === null
      ? null
      : `the payment was received and is kept, waiting for order ${row.kept_for}: not in the ledger yet`,
});

export type OutcomeCounts = Record<'matched' | DifferenceKind, number>;

export async function outcomeCounts(trx: Knex.Transaction): Promise<OutcomeCounts> {
  const { rows } = await trx.raw<{ rows: { outcome: string; items: string }[] }>(
    `SELECT outcome, count(*)::text AS items FROM gateway_result GROUP BY outcome
     UNION ALL
     SELECT 'twice_in_file', count(*)::text FROM gateway_result WHERE outcome <> 'edge' AND copies > 1`,
  );
  const counts: OutcomeCounts = {
    matched: 0,
    only_in_file: 0,
    only_in_ledger: 0,
    amount_differs: 0,
    twice_in_file: 0,
  };
  for (const row of rows)
    if (row.outcome in counts) counts[row.outcome as keyof OutcomeCounts] += Number(row.items);
  return counts;
}

export interface TypeTotal {
  readonly type: string;
  readonly currency: string;
  readonly fileItems: number;
  readonly fileMinor: string;
  readonly ledgerItems: number;
  readonly ledgerMinor: string;
}

/** Per type and currency, inside the window: the file's lines (every copy) and the ledger's items. */
export async function typeTotals(trx: Knex.Transaction, window: MatchWindow): Promise<TypeTotal[]> {
  const { rows } = await trx.raw<{
    rows: {
      type: string;
      currency: string;
      file_items: string;
      file_minor: string;
      ledger_items: string;
      ledger_minor: string;
    }[];
  }>(
    `WITH file_side AS (
       SELECT type, currency, count(*) AS items, sum(amount_minor) AS minor FROM gateway_report
       WHERE occurred_at BETWEEN ? AND ? GROUP BY 1, 2
     ), ledger_side AS (
       SELECT type, currency, count(*) AS items, sum(amount_minor) AS minor FROM gateway_ledger
       WHERE at BETWEEN ? AND ? GROUP BY 1, 2
     )
     SELECT coalesce(f.type, l.type) AS type, coalesce(f.currency, l.currency) AS currency,
       coalesce(f.items, 0)::text AS file_items, coalesce(f.minor, 0)::text AS file_minor,
       coalesce(l.items, 0)::text AS ledger_items, coalesce(l.minor, 0)::text AS ledger_minor
     FROM file_side f FULL JOIN ledger_side l ON l.type = f.type AND l.currency = f.currency
     ORDER BY coalesce(f.currency, l.currency) COLLATE "C", coalesce(f.type, l.type) COLLATE "C"`,
    [window.from, window.to, window.from, window.to],
  );
  return rows.map((row) => ({
    type: row.type,
    currency: row.currency,
    fileItems: Number(row.file_items),
    fileMinor: row.file_minor,
    ledgerItems: Number(row.ledger_items),
    ledgerMinor: row.ledger_minor,
  }));
}

export interface CurrencyNet {
  readonly currency: string;
  /** Money in less money out, by the file's lines inside the window. */
  readonly fileNetMinor: string;
  /** The same by the ledger: gateway clearing's movement for this gateway inside the window, negated. */
  readonly ledgerNetMinor: string;
  /** file − ledger, and how much of it the listed differences explain; the rest is the edges'. */
  readonly differenceMinor: string;
  readonly explainedByDifferencesMinor: string;
  readonly explainedByEdgesMinor: string;
}

export async function currencyNets(
  trx: Knex.Transaction,
  window: MatchWindow,
): Promise<CurrencyNet[]> {
  const { rows } = await trx.raw<{
    rows: { currency: string; file_net: string; ledger_net: string; explained: string }[];
  }>(
    `WITH file_net AS (
       SELECT currency, sum(${signOf('type')} * amount_minor) AS net FROM gateway_report
       WHERE occurred_at BETWEEN ? AND ? GROUP BY 1
     ), ledger_net AS (
       SELECT currency, -sum(clearing_minor) AS net FROM gateway_ledger
       WHERE at BETWEEN ? AND ? GROUP BY 1
     ), explained AS (
       -- Each difference's share of (file net - ledger net): a file item counts every
       -- copy, a ledger item its clearing movement (the ledger net is its negation).
       SELECT currency, sum(delta) AS delta FROM (
         SELECT file_currency AS currency, ${signOf('type')} * file_minor * copies AS delta
           FROM gateway_result WHERE outcome IN ('only_in_file', 'amount_differs')
         UNION ALL
         SELECT ledger_currency, ledger_clearing_minor
           FROM gateway_result WHERE outcome IN ('only_in_ledger', 'amount_differs')
         UNION ALL
         SELECT file_currency, ${signOf('type')} * file_minor * (copies - 1)
           FROM gateway_result WHERE outcome = 'matched' AND copies > 1
       ) parts GROUP BY 1
     )
     SELECT c.currency, coalesce(f.net, 0)::text AS file_net, coalesce(l.net, 0)::text AS ledger_net,
       coalesce(x.delta, 0)::text AS explained
     FROM (SELECT currency FROM file_net UNION SELECT currency FROM ledger_net) c
     LEFT JOIN file_net f USING (currency) LEFT JOIN ledger_net l USING (currency)
     LEFT JOIN explained x USING (currency)
     ORDER BY c.currency COLLATE "C"`,
    [window.from, window.to, window.from, window.to],
  );
  return rows.map((row) => {
    const difference = BigInt(row.file_net) - BigInt(row.ledger_net);
    return {
      currency: row.currency,
      fileNetMinor: row.file_net,
      ledgerNetMinor: row.ledger_net,
      differenceMinor: difference.toString(),
      explainedByDifferencesMinor: row.explained,
      explainedByEdgesMinor: (difference - BigInt(row.explained)).toString(),
    };
  });
}
