/**
 * The money loop after the storm, against what the suite itself sent as the
 * payout service (payout-service.ts) and the chargebacks its scenarios
 * planned: every payout and refund request settled exactly once, as sent
 * (its disbursements row PAID or FAILED with the settlement's gateway,
 * reference and original eventId), nothing kept waiting for an outcome; one
 * PAYOUT_SETTLED / PAYOUT_FAILED / REFUND_SETTLED / REFUND_FAILED per answer
 * and one CHARGEBACK_APPLIED (and CHARGEBACK_REVERSED) per chargeback on
 * escrow.events.v1, with the figures sent; the payable accounts holding what
 * was asked and not paid; gateway clearing holding what was received less
 * what was paid out, refunded and charged back, plus what was reversed; and
 * each chargeback stored with the parts its scenario predicts.
 */
import type { Knex } from 'knex';
import type { RegistryCodec } from '../../src/codec/registry-codec';
import type { PublishedMessage } from './check-topics';
import type { Findings } from './findings';
import type { SentSettlement } from './payout-service';
import type { ExpectedChargeback } from './scenario-tools';
import type { OrderScript } from './workload';

/** "1234.56" or "1234" → minor units; undefined for anything else. */
const minorOf = (text: unknown): bigint | undefined =>
  typeof text === 'string' && /^-?\d+(\.\d+)?$/.test(text)
    ? BigInt(text.replace('.', ''))
    : undefined;
const key = (...parts: string[]) => parts.join('\u0001');
const settledEventType = {
  PAYOUT_PAID: 'PAYOUT_SETTLED',
  PAYOUT_FAILED: 'PAYOUT_FAILED',
  REFUND_PAID: 'REFUND_SETTLED',
  REFUND_FAILED: 'REFUND_FAILED',
} as Record<string, string>;
const chargebackParts = [
  'fromHeld',
  'fromDisputed',
  'feeReversed',
  'receivable',
  'fromPlatform',
] as const;

export async function checkSettlements(
  deps: { db: Knex; codec: RegistryCodec },
  orders: readonly OrderScript[],
  settled: ReadonlyMap<string, SentSettlement>,
  published: readonly PublishedMessage[],
  findings: Findings,
): Promise<void> {
  const chargebacks = orders.flatMap((order) => order.chargebacks);
  await checkRequests(deps.db, settled, findings);
  await checkEvents(deps.codec, settled, chargebacks, published, findings);
  await checkBalances(deps.db, orders, settled, chargebacks, findings);
  await checkChargebacks(deps.db, chargebacks, findings);
}

async function checkRequests(
  db: Knex,
  settled: ReadonlyMap<string, SentSettlement>,
  findings: Findings,
): Promise<void> {
  findings.check(
    'requests_settled_as_sent',
    'each payout and refund request settled exactly once, as the payout service sent it; nothing kept waiting',
  );
  const rows = await db('disbursements').select<Record<string, string | null>[]>(
    'outcome_id',
    'kind',
    'order_id',
    'state',
    'amount_minor',
    'failure_reason',
    'settlement_gateway',
    'settlement_reference',
    'settlement_event_id',
  );
  const recorded = new Set<string>();
  for (const row of rows) {
    const outcomeId = row.outcome_id!;
    recorded.add(outcomeId);
    const sent = settled.get(outcomeId);
    const name = `${row.kind} ${outcomeId} of ${row.order_id}`;
    if (sent === undefined) {
      findings.add(
        'requests_settled_as_sent',
        `${name} is ${row.state}: the payout service never saw it on its topic`,
      );
      continue;
    }
    const want: Record<string, string | null> = {
      kind: sent.kind,
      order_id: sent.orderId,
      state: sent.paid ? 'PAID' : 'FAILED',
      amount_minor: String(sent.amount),
      failure_reason: sent.reason,
      settlement_gateway: sent.gateway,
      settlement_reference: sent.reference,
      settlement_event_id: sent.eventId,
    };
    const wrong = Object.entries(want)
      .filter(([column, value]) => String(row[column]) !== String(value))
      .map(([column, value]) => `${column} ${String(row[column])} instead of ${String(value)}`);
    if (wrong.length > 0)
      findings.add('requests_settled_as_sent', `${name} (${sent.type} sent): ${wrong.join(', ')}`);
  }
  for (const sent of settled.values()) {
    if (!recorded.has(sent.outcomeId))
      findings.add(
        'requests_settled_as_sent',
        `${sent.type} was sent for ${sent.kind} ${sent.outcomeId} of ${sent.orderId}, which has no disbursements row`,
      );
  }
  const kept = await db('kept_events')
    .whereNull('replayed_at')
    .whereLike('dedupe_key', 'settlement:%')
    .select<{ dedupe_key: string; order_id: string }[]>('dedupe_key', 'order_id');
  for (const row of kept)
    findings.add(
      'requests_settled_as_sent',
      `settlement ${row.dedupe_key} of ${row.order_id} is still kept, never applied`,
    );
}

async function checkEvents(
  codec: RegistryCodec,
  settled: ReadonlyMap<string, SentSettlement>,
  chargebacks: readonly ExpectedChargeback[],
  published: readonly PublishedMessage[],
  findings: Findings,
): Promise<void> {
  findings.check(
    'settlement_outcomes_published',
    'one PAYOUT_SETTLED/_FAILED or REFUND_SETTLED/_FAILED per settlement sent, one CHARGEBACK_APPLIED (and _REVERSED) per chargeback, with the figures sent',
  );
  const bySettled = new Map<string, Record<string, unknown>[]>();
  const byPayment = new Map<string, Record<string, unknown>[]>();
  const seen = new Set<string>();
  for (const message of published) {
    if (message.topic !== 'escrow.events.v1' || message.value === null) continue;
    if (message.outcomeId === undefined || seen.has(message.outcomeId)) continue;
    seen.add(message.outcomeId);
    const decoded = await codec.decode('escrow.events.v1', message.value);
    if (!decoded.ok) continue; // payouts_as_expected and the topic checks report it
    const value = decoded.value as Record<string, unknown>;
    const type = String(value.type);
    if (!/^(PAYOUT|REFUND|CHARGEBACK)_/.test(type)) continue;
    const details = JSON.parse(typeof value.details === 'string' ? value.details : '{}') as Record<
      string,
      unknown
    >;
    const event = { ...details, type };
    if (type.startsWith('CHARGEBACK')) {
      const at = key(String(details.gateway), String(details.gatewayReference));
      (byPayment.get(at) ?? byPayment.set(at, []).get(at)!).push(event);
    } else {
      const at = String(details.settledOutcomeId);
      (bySettled.get(at) ?? bySettled.set(at, []).get(at)!).push(event);
    }
  }
  for (const sent of settled.values()) {
    const events = bySettled.get(sent.outcomeId) ?? [];
    bySettled.delete(sent.outcomeId);
    const want = settledEventType[sent.type]!;
    const name = `${sent.kind} ${sent.outcomeId} of ${sent.orderId}`;
    if (events.length !== 1 || events[0]!.type !== want) {
      findings.add(
        'settlement_outcomes_published',
        `${name}: ${sent.type} sent, published [${events.map((e) => String(e.type)).join(', ')}] instead of one ${want}`,
      );
      continue;
    }
    const event = events[0]!;
    if (minorOf(event.settledAmount) !== sent.amount || event.settledCurrency !== sent.currency)
      findings.add(
        'settlement_outcomes_published',
        `${name}: ${want} says ${String(event.settledAmount)} ${String(event.settledCurrency)}, ${sent.amount} ${sent.currency} (minor units) was settled`,
      );
  }
  for (const [outcomeId, events] of bySettled)
    findings.add(
      'settlement_outcomes_published',
      `${events.map((e) => String(e.type)).join(', ')} published for ${outcomeId}, which no settlement sent named`,
    );
  for (const chargeback of chargebacks) {
    const at = key(chargeback.gateway, chargeback.reference);
    const events = byPayment.get(at) ?? [];
    byPayment.delete(at);
    const name = `chargeback of ${chargeback.gateway}/${chargeback.reference} (${chargeback.orderId})`;
    const types = events.map((e) => String(e.type)).sort();
    const want = chargeback.reversed
      ? ['CHARGEBACK_APPLIED', 'CHARGEBACK_REVERSED']
      : ['CHARGEBACK_APPLIED'];
    if (types.join() !== want.join()) {
      findings.add(
        'settlement_outcomes_published',
        `${name}: published [${types.join(', ')}] instead of [${want.join(', ')}]`,
      );
      continue;
    }
    const applied = events.find((e) => e.type === 'CHARGEBACK_APPLIED')!;
    const wrong = [
      ['chargebackAmount', chargeback.amount] as const,
      ...chargebackParts.map((part) => [part, chargeback[part]] as const),
    ]
      .filter(([field, minor]) => minorOf(applied[field]) !== minor)
      .map(([field, minor]) => `${field} ${String(applied[field])} instead of ${minor}`);
    if (wrong.length > 0)
      findings.add(
        'settlement_outcomes_published',
        `${name}: CHARGEBACK_APPLIED ${wrong.join(', ')} (minor units)`,
      );
  }
  for (const [at, events] of byPayment)
    findings.add(
      'settlement_outcomes_published',
      `${events.map((e) => String(e.type)).join(', ')} published for payment ${at.replace('\u0001', '/')}, which the stream never charged back`,
    );
}

async function checkBalances(
  db: Knex,
  orders: readonly OrderScript[],
  settled: ReadonlyMap<string, SentSettlement>,
  chargebacks: readonly ExpectedChargeback[],
  findings: Findings,
): Promise<void> {
  findings.check(
    'payables_match_requests',
    'each provider payable and buyer refund payable holds exactly what was asked for and not paid',
  );
  const balances = await db.raw<{
    rows: { kind: string; currency: string; party: string | null; balance: string }[];
  }>(`
    SELECT a.kind, a.currency, a.party_id AS party, sum(e.amount_minor) AS balance
      FROM ledger_entries e JOIN accounts a ON a.account_id = e.account_id
     WHERE a.kind IN ('PROVIDER_PAYABLE', 'BUYER_REFUND_PAYABLE', 'GATEWAY_CLEARING')
     GROUP BY 1, 2, 3`);
  const payable = new Map<string, bigint>();
  for (const sent of settled.values()) {
    if (sent.paid) continue;
    const at = key(
      sent.kind === 'PAYOUT' ? 'PROVIDER_PAYABLE' : 'BUYER_REFUND_PAYABLE',
      sent.currency,
      sent.partyId,
    );
    payable.set(at, (payable.get(at) ?? 0n) + sent.amount);
  }
  const clearing = new Map<string, bigint>();
  for (const row of balances.rows) {
    if (row.kind === 'GATEWAY_CLEARING') {
      // Money received is the one negative balance: held at the gateway = -balance.
      clearing.set(row.currency, -BigInt(row.balance));
      continue;
    }
    const at = key(row.kind, row.currency, row.party ?? '');
    const want = payable.get(at) ?? 0n;
    payable.delete(at);
    if (BigInt(row.balance) !== want)
      findings.add(
        'payables_match_requests',
        `${at.replaceAll('\u0001', ':')} holds ${row.balance}, ${want} asked for and not paid (minor units)`,
      );
  }
  for (const [at, want] of payable)
    findings.add(
      'payables_match_requests',
      `${at.replaceAll('\u0001', ':')} has no entries, but ${want} was asked for and not paid (minor units)`,
    );

  findings.check(
    'gateway_clearing_as_expected',
    'gateway clearing holds, per currency, what was received less paid out, refunded and charged back, plus reversed',
  );
  const expected = new Map<string, { net: bigint; parts: bigint[] }>();
  const move = (currency: string, index: number, amount: bigint) => {
    const entry =
      expected.get(currency) ??
      expected.set(currency, { net: 0n, parts: [0n, 0n, 0n, 0n, 0n] }).get(currency)!;
    entry.parts[index]! += amount;
    entry.net += index === 0 || index === 4 ? amount : -amount;
  };
  for (const payment of orders.flatMap((order) => order.payments))
    move(payment.currency, 0, payment.amount);
  for (const sent of settled.values())
    if (sent.paid) move(sent.currency, sent.kind === 'PAYOUT' ? 1 : 2, sent.amount);
  for (const chargeback of chargebacks) {
    move(chargeback.currency, 3, chargeback.amount);
    if (chargeback.reversed) move(chargeback.currency, 4, chargeback.amount);
  }
  for (const currency of new Set([...expected.keys(), ...clearing.keys()])) {
    const want = expected.get(currency) ?? { net: 0n, parts: [0n, 0n, 0n, 0n, 0n] };
    const got = clearing.get(currency) ?? 0n;
    if (got !== want.net) {
      const [received, paidOut, refunded, chargedBack, reversed] = want.parts;
      findings.add(
        'gateway_clearing_as_expected',
        `${currency}: clearing holds ${got}, expected ${want.net} = received ${received} - paid out ${paidOut} - refunded ${refunded} - charged back ${chargedBack} + reversed ${reversed} (minor units)`,
      );
    }
  }
}

async function checkChargebacks(
  db: Knex,
  chargebacks: readonly ExpectedChargeback[],
  findings: Findings,
): Promise<void> {
  findings.check(
    'chargebacks_as_expected',
    'each chargeback stored once, taken from held, disputed, fee, receivable and platform as its scenario predicts, recovered and reversed as predicted',
  );
  const rows = await db('chargebacks').select<Record<string, string | boolean>[]>(
    'gateway',
    'gateway_reference',
    'order_id',
    'amount_minor',
    'from_held_minor',
    'from_disputed_minor',
    'fee_reversed_minor',
    'receivable_minor',
    'from_platform_minor',
    'recovered_minor',
    'reversed',
  );
  const stored = new Map(
    rows.map((row) => [key(String(row.gateway), String(row.gateway_reference)), row]),
  );
  for (const chargeback of chargebacks) {
    const at = key(chargeback.gateway, chargeback.reference);
    const row = stored.get(at);
    stored.delete(at);
    const name = `chargeback of ${chargeback.gateway}/${chargeback.reference} (${chargeback.orderId})`;
    if (row === undefined) {
      findings.add('chargebacks_as_expected', `${name} was never recorded`);
      continue;
    }
    const want: [string, string][] = [
      ['order_id', chargeback.orderId],
      ['amount_minor', String(chargeback.amount)],
      ['from_held_minor', String(chargeback.fromHeld)],
      ['from_disputed_minor', String(chargeback.fromDisputed)],
      ['fee_reversed_minor', String(chargeback.feeReversed)],
      ['receivable_minor', String(chargeback.receivable)],
      ['from_platform_minor', String(chargeback.fromPlatform)],
      ['recovered_minor', String(chargeback.recovered)],
      ['reversed', String(chargeback.reversed)],
    ];
    const wrong = want
      .filter(([column, value]) => String(row[column]) !== value)
      .map(([column, value]) => `${column} ${String(row[column])} instead of ${value}`);
    if (wrong.length > 0) findings.add('chargebacks_as_expected', `${name}: ${wrong.join(', ')}`);
  }
  for (const [at] of stored)
    findings.add(
      'chargebacks_as_expected',
      `a chargeback of ${at.replace('\u0001', '/')} is recorded, but the stream sent none`,
    );
}
