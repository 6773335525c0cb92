/**
 * Provider receivables (CONTRACT.md settlements: CHARGEBACK; invariant 6 of
 * DESIGN.md: a provider receivable never exceeds what was charged back).
 * PROVIDER_RECEIVABLE:<currency>:<provider> is owed to the platform, so it
 * runs at or below zero: a CHARGEBACK of released money debits it by the
 * chargeback's receivable, every RELEASE or DISPUTE_RESOLUTION to that
 * provider credits it by what it netted (chargebacks.recovered_minor, oldest
 * chargeback first), and a CHARGEBACK_REVERSAL credits what was still owed.
 * So, per provider and currency, exactly:
 *   −balance  = Σ (receivable − recovered) of the chargebacks still standing
 *   recovered = Σ recovered_minor = what releases credited to the receivable
 * receivables_outstanding ages what is still owed, like stuck_funds does for
 * escrow: every outstanding receivable by age bucket, and a finding past the
 * threshold (a provider with no later release never pays it back by netting).
 */
import { amountText, durationText } from '../text';
import type { Check, ReceivableAgeBucket } from '../types';
import { AgeTally, ageBoundaries, bucketIndexSql } from './ages';

interface ProviderRow {
  provider_id: string;
  currency: string;
  account_code: string | null;
  owed: string;
  charged: string;
  recovered: string;
  cancelled: string;
  other: string;
  standing_receivable: string;
  standing_owed: string;
  table_receivable: string;
  table_recovered: string;
  reversed_owed: string;
  chargebacks: string;
}

export const receivablesMatchChargebacks: Check = {
  name: 'receivables_match_chargebacks',
  invariant: 'DESIGN.md invariant 6: a provider receivable never exceeds what was charged back',
  description:
    "each provider's receivable (per currency) is what its standing chargebacks leave to recover, never " +
    'more than they charged back, and what releases netted from it is what the chargebacks record as recovered',
  action:
    'the ledger is the source of truth for money: correct the chargebacks rows (recovered_minor, reversed) ' +
    "from the receivable account's entries; a receivable the chargebacks do not explain needs a reviewed " +
    "correcting transaction. Until then the provider's next release nets the wrong amount",
  async run(run) {
    // Both sets are as small as the chargebacks: one statement, per provider by index lookups.
    const { rows } = await run.db.raw<{ rows: ProviderRow[] }>(
      `WITH providers AS (
         SELECT provider_id, trim(currency) AS currency FROM chargebacks
         UNION SELECT party_id, trim(currency) FROM accounts WHERE kind = 'PROVIDER_RECEIVABLE'
       ), compared AS (
         SELECT p.provider_id, p.currency, l.account_code, l.owed, l.charged, l.recovered, l.cancelled,
           l.other, c.standing_receivable, c.standing_owed, c.table_receivable, c.table_recovered,
           c.reversed_owed, c.chargebacks
         FROM providers p
         CROSS JOIN LATERAL (
           SELECT min(a.code) AS account_code, -coalesce(sum(e.amount_minor), 0) AS owed,
             -coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'CHARGEBACK'), 0) AS charged,
             coalesce(sum(e.amount_minor) FILTER (WHERE t.kind IN ('RELEASE', 'DISPUTE_RESOLUTION')), 0)
               AS recovered,
             coalesce(sum(e.amount_minor) FILTER (WHERE t.kind = 'CHARGEBACK_REVERSAL'), 0) AS cancelled,
             coalesce(sum(e.amount_minor) FILTER (WHERE t.kind NOT IN ('CHARGEBACK', 'RELEASE',
               'DISPUTE_RESOLUTION', 'CHARGEBACK_REVERSAL')), 0) AS other
           FROM accounts a
           LEFT JOIN ledger_entries e ON e.account_id = a.account_id
           LEFT JOIN ledger_transactions t ON t.transaction_id = e.transaction_id
           WHERE a.kind = 'PROVIDER_RECEIVABLE' AND a.party_id = p.provider_id
             AND a.currency = p.currency) l
         CROSS JOIN LATERAL (
           SELECT coalesce(sum(receivable_minor) FILTER (WHERE NOT reversed), 0) AS standing_receivable,
             coalesce(sum(receivable_minor - recovered_minor) FILTER (WHERE NOT reversed), 0) AS standing_owed,
             coalesce(sum(receivable_minor), 0) AS table_receivable,
             coalesce(sum(recovered_minor), 0) AS table_recovered,
             coalesce(sum(receivable_minor - recovered_minor) FILTER (WHERE reversed), 0) AS reversed_owed,
             count(*) AS chargebacks
           FROM chargebacks c WHERE c.provider_id = p.provider_id AND c.currency = p.currency) c
       )
       SELECT * FROM compared
       WHERE owed <> standing_owed OR recovered <> table_recovered OR charged <> table_receivable
         OR cancelled <> reversed_owed OR other <> 0
       ORDER BY provider_id, currency`,
    );
    for (const row of rows) {
      const text = (minor: string) => amountText(minor, row.currency);
      const differ = (a: string, b: string) => BigInt(a) !== BigInt(b);
      const problems: string[] = [];
      if (BigInt(row.owed) > BigInt(row.standing_receivable)) {
        problems.push(
          `owes ${text(row.owed)} by the ledger, more than its standing chargebacks ever charged back ` +
            `(${text(row.standing_receivable)})`,
        );
      }
      if (differ(row.owed, row.standing_owed)) {
        problems.push(
          `owes ${text(row.owed)} by the ledger but its ${row.chargebacks} chargeback(s) leave ` +
            `${text(row.standing_owed)} to recover`,
        );
      }
      if (differ(row.recovered, row.table_recovered)) {
        problems.push(
          `releases netted ${text(row.recovered)} from the receivable but the chargebacks record ` +
            `${text(row.table_recovered)} recovered`,
        );
      }
      if (differ(row.charged, row.table_receivable)) {
        problems.push(
          `CHARGEBACK transactions charged ${text(row.charged)} to it but the chargebacks' receivables ` +
            `sum to ${text(row.table_receivable)}`,
        );
      }
      if (differ(row.cancelled, row.reversed_owed)) {
        problems.push(
          `reversals cancelled ${text(row.cancelled)} of it but the reversed chargebacks still owed ` +
            `${text(row.reversed_owed)}`,
        );
      }
      if (BigInt(row.other) !== 0n) {
        problems.push(`other transactions moved ${text(row.other)} through it`);
      }
      run.found({
        subject: `provider ${row.provider_id} (${row.currency} receivable)`,
        problem: problems.join('; '),
        refs: {
          providerId: row.provider_id,
          currency: row.currency,
          ...(row.account_code ? { accountCode: row.account_code } : {}),
        },
      });
    }
    run.progress(1, 1);
  },
};

interface OutstandingRow {
  bucket: number;
  late: boolean;
  gateway: string;
  gateway_reference: string;
  order_id: string;
  milestone_id: string | null;
  provider_id: string;
  currency: string;
  receivable: string;
  recovered: string;
  owed: string;
  charged_back_at: Date;
  age_ms: string;
}

export const receivablesOutstanding: Check = {
  name: 'receivables_outstanding',
  invariant:
    "CONTRACT.md settlements: a receivable is recovered from the provider's next releases; one that stays is a loss",
  description:
    'chargebacks whose provider receivable is still owed longer than the receivable threshold after the ' +
    'chargeback; every receivable still owed is also counted by age bucket',
  action:
    'the provider has had no release large enough to net it: ask the provider to pay it back (or the ' +
    'gateway to reverse the chargeback), or write it off through finance; GET /providers/{providerId} shows ' +
    'what they owe',
  async run(run) {
    const boundaries = ageBoundaries(run.options.receivableOutstandingAfterMs);
    // The partial index chargebacks_outstanding holds exactly these rows.
    const { rows } = await run.db.raw<{ rows: OutstandingRow[] }>(
      `WITH owed AS MATERIALIZED (
         SELECT c.*, floor(extract(epoch FROM (?::timestamptz - c.charged_back_at)) * 1000)::bigint AS age_ms
         FROM chargebacks c WHERE c.recovered_minor < c.receivable_minor AND NOT c.reversed)
       SELECT ${bucketIndexSql('owed.age_ms')} AS bucket, age_ms >= ? AS late, gateway, gateway_reference,
         order_id, milestone_id, provider_id, trim(currency) AS currency,
         receivable_minor::text AS receivable, recovered_minor::text AS recovered,
         (receivable_minor - recovered_minor)::text AS owed, charged_back_at, age_ms::text
       FROM owed ORDER BY charged_back_at, chargeback_id`,
      [
        run.options.now.toISOString(),
        boundaries.map(String),
        String(run.options.receivableOutstandingAfterMs),
      ],
    );
    const tally = new AgeTally();
    for (const row of rows) {
      tally.add(row.bucket, row.currency, BigInt(row.owed));
      if (!row.late) continue;
      const text = (minor: string) => amountText(minor, row.currency);
      run.found({
        subject: `provider ${row.provider_id} (chargeback ${row.gateway}/${row.gateway_reference}, order ${row.order_id})`,
        problem:
          `owes ${text(row.owed)} of a ${text(row.receivable)} receivable (${text(row.recovered)} recovered) ` +
          `${durationText(Number(row.age_ms))} after the chargeback (${row.charged_back_at.toISOString()})`,
        refs: {
          providerId: row.provider_id,
          orderId: row.order_id,
          ...(row.milestone_id ? { milestoneId: row.milestone_id } : {}),
          gateway: row.gateway,
          gatewayReference: row.gateway_reference,
          currency: row.currency,
        },
      });
    }
    const buckets: ReceivableAgeBucket[] = tally
      .byAge(boundaries)
      .map(({ count, ...bucket }) => ({ ...bucket, chargebacks: count }));
    run.setReceivableAgeBuckets(buckets);
    run.progress(1, 1);
  },
};
