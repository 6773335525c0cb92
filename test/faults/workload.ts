/**
 * The realistic part of the stream: many orders of one to four milestones in
 * four currencies, each milestone following a scenario (scenarios.ts), a few
 * orders paying a service fee or sending a payment in the wrong currency,
 * about 5% of gateway callbacks retried, and some orders whose ids are not
 * ASCII at all (Cyrillic, CJK, Arabic, combining marks, emoji up to the
 * 200-character limit): valid ids that must be processed like any other.
 *
 * Built up front from the seed, so a run can be repeated; the driver sends
 * each order's steps in turn.
 */
import type { Random } from './random';
import { recoveryOrder } from './recovery-order';
import {
  chargebackOf,
  type ExpectedChargeback,
  expectedChargeback,
  type ExpectedRefund,
} from './scenario-tools';
import {
  type ExpectedMilestone,
  type Ids,
  milestoneScript,
  type ScenarioKind,
  scenarioKinds,
  scenarioWeights,
} from './scenarios';
import {
  amountText,
  type StreamMessage,
  streamOrderOpened,
  streamPayment,
} from './stream-messages';

export interface ExpectedPayment {
  gateway: string;
  reference: string;
  currency: string;
  amount: bigint;
}

export interface OrderScript {
  orderId: string;
  /** Step n is sent once every event of step n - 1 is in the inbox. */
  steps: StreamMessage[][];
  milestones: ExpectedMilestone[];
  /** Every distinct gateway payment: each must reach the ledger exactly once, for its amount. */
  payments: ExpectedPayment[];
  /** Valid events the worker must answer with EVENT_REJECTED, and why. */
  rejections: { eventId: string; reason: string }[];
  /**
   * Refunds published with no milestoneId: a payment in the wrong currency goes
   * back whole and leaves its milestone untouched, so the outcome names none.
   */
  orderRefunds: ExpectedRefund[];
  /** Every CHARGEBACK the stream sends for this order, with its expected parts. */
  chargebacks: ExpectedChargeback[];
}

const currencies = [
  { code: 'USD', weight: 50, min: 5_000n, max: 500_000n },
  { code: 'EUR', weight: 25, min: 5_000n, max: 500_000n },
  { code: 'JPY', weight: 15, min: 5_000n, max: 500_000n },
  { code: 'KWD', weight: 10, min: 20_000n, max: 2_000_000n },
] as const;

/** Order ids, and a short tag that the order's other ids (events, references, parties) start with. */
const unicodeNames = [
  { order: (n: number) => `заказ-${n}-Ёлка`, tag: 'Ёлка' },
  { order: (n: number) => `订单-${n}-测试`, tag: '测试' },
  { order: (n: number) => `طلب-${n}-اختبار`, tag: 'اختبار' },
  { order: (n: number) => `commande-${n}-e\u0301te\u0301`, tag: 'e\u0301te\u0301' },
  // Up to 195 characters (code points, as the validators and Postgres count them): close to the
  // 200-character limit, and 390 UTF-16 units or 780 bytes long, so no layer may count those.
  { order: (n: number) => `${'🧾'.repeat(190)}-${n}`, tag: '🧾🚀' },
];

function weighted<T extends { weight: number }>(rnd: Random, items: readonly T[]): T {
  let roll = rnd.next() * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1]!;
}

const scenarioTable = scenarioKinds.map((kind) => ({ kind, weight: scenarioWeights[kind] }));

export function buildWorkload(
  rnd: Random,
  targetEvents: number,
  duplicateRate = 0.05,
): OrderScript[] {
  let eventCount = 0;
  let referenceCount = 0;
  let disputeCount = 0;
  const orders: OrderScript[] = [];
  let events = 0;
  while (events < targetEvents) {
    const n = orders.length + 1;
    // Every flavour in every hundred orders, so even a short run has each of them.
    const unicode =
      n % 20 === 7 ? unicodeNames[Math.floor(n / 20) % unicodeNames.length] : undefined;
    const name = (ascii: string) => (unicode ? `${unicode.tag}-${ascii}` : ascii);
    const ids: Ids = {
      event: () => name(`e${++eventCount}`),
      reference: () => name(`ch${++referenceCount}`),
      dispute: () => `d${++disputeCount}`,
    };
    const orderId = unicode ? unicode.order(n) : `o${n}`;
    // Every twentieth order a chargeback after release that the next release recovers.
    const order =
      n % 20 === 13
        ? recoveryOrderScript(rnd, ids, orderId, name, name(`provider-owing-${n}`), duplicateRate)
        : orderScript(rnd, ids, orderId, name, duplicateRate);
    events += order.steps.flat().length;
    orders.push(order);
  }
  return orders;
}

function orderScript(
  rnd: Random,
  ids: Ids,
  orderId: string,
  name: (ascii: string) => string,
  duplicateRate: number,
): OrderScript {
  const currency = weighted(rnd, currencies);
  const scripts = Array.from({ length: rnd.int(1, 4) }, (_, index) => {
    const kind: ScenarioKind = weighted(rnd, scenarioTable).kind;
    const milestoneId = name(`m${index + 1}`);
    const amount = rnd.bigint(currency.min, currency.max);
    const releaseCondition = rnd.pick([
      'DELIVERY_CONFIRMED',
      'REPORT_SUBMITTED',
      'BUYER_APPROVED',
      'ANY',
    ] as const);
    // Mostly released at once; some wait for the inspection timer, across kills and restarts.
    const inspectionPeriodSeconds = rnd.chance(0.75) ? 0 : rnd.int(1, 3);
    const plan = {
      milestoneId,
      sequence: index + 1,
      amount,
      releaseCondition,
      inspectionPeriodSeconds,
    };
    const script = milestoneScript(kind, {
      rnd,
      ids,
      orderId,
      milestoneId,
      currency: currency.code,
      amount,
      releaseCondition,
      duplicateRate,
    });
    return { plan, script };
  });
  const opened = streamOrderOpened({
    eventId: ids.event(),
    orderId,
    buyerId: name('buyer'),
    providerId: name(`provider${rnd.int(1, 40)}`),
    currency: currency.code,
    milestones: scripts.map(({ plan }) => ({
      ...plan,
      amount: amountText(currency.code, plan.amount),
    })),
  });
  const depth = Math.max(...scripts.map(({ script }) => script.phases.length));
  const steps: StreamMessage[][] = Array.from({ length: depth }, (_, phase) =>
    scripts.flatMap(({ script }) => script.phases[phase] ?? []),
  );
  steps[0]!.unshift(opened);
  const rejections: OrderScript['rejections'] = [];
  const orderRefunds: ExpectedRefund[] = [];
  const gatewayPayment = (
    milestoneId: string | null,
    kind: 'SERVICE_FEE' | 'DEPOSIT',
    payCurrency: string,
    minor: bigint,
  ) =>
    streamPayment({
      eventId: ids.event(),
      gateway: 'stripe',
      gatewayReference: ids.reference(),
      orderId,
      milestoneId,
      kind,
      amount: amountText(payCurrency, minor),
      currency: payCurrency,
    });
  const chargebacks = scripts.flatMap(({ script }) => script.expected.chargebacks);
  if (rnd.chance(0.08)) {
    // Platform revenue at once; it may arrive before its order and wait for it.
    const fee = gatewayPayment(null, 'SERVICE_FEE', currency.code, rnd.bigint(100n, 2_000n));
    steps[0]!.push(fee);
    if (rnd.chance(0.5)) {
      // Charged back, in part or whole: no milestone to take it from, the platform's loss.
      const pulled = minorOf(String(fee.value.amount)) - rnd.bigint(0n, 50n);
      (steps[1] ??= []).push(...chargebackOf(rnd, ids, fee, 'CHARGEBACK', pulled));
      chargebacks.push(expectedChargeback(fee, pulled, { fromPlatform: pulled }));
    }
  }
  if (rnd.chance(0.03)) {
    // A gateway settling in the wrong currency: refunded in full, the milestone untouched.
    const other = currency.code === 'EUR' ? 'USD' : 'EUR';
    const wrong = gatewayPayment(
      scripts[0]!.plan.milestoneId,
      'DEPOSIT',
      other,
      rnd.bigint(1_000n, 50_000n),
    );
    (steps[1] ??= []).push(wrong);
    rejections.push({ eventId: wrong.eventId, reason: 'CURRENCY_MISMATCH' });
    orderRefunds.push({
      currency: other,
      amount: minorOf(String(wrong.value.amount)),
      reason: 'CURRENCY_MISMATCH',
    });
  }
  return finished(orderId, steps, {
    milestones: scripts.map(({ script }) => script.expected),
    rejections,
    orderRefunds,
    chargebacks,
  });
}

function recoveryOrderScript(
  rnd: Random,
  ids: Ids,
  orderId: string,
  name: (ascii: string) => string,
  providerId: string,
  duplicateRate: number,
): OrderScript {
  const currency = weighted(rnd, currencies);
  const { steps, milestones, chargebacks } = recoveryOrder({
    rnd,
    ids,
    orderId,
    name,
    providerId,
    currency,
    duplicateRate,
  });
  return finished(orderId, steps, { milestones, rejections: [], orderRefunds: [], chargebacks });
}

/** The script of an order from its steps: every distinct payment they send, each once. */
function finished(
  orderId: string,
  steps: StreamMessage[][],
  expected: Pick<OrderScript, 'milestones' | 'rejections' | 'orderRefunds' | 'chargebacks'>,
): OrderScript {
  const payments = new Map<string, ExpectedPayment>();
  for (const message of steps.flat()) {
    if (message.topic !== 'escrow.payment-confirmed.v1') continue;
    const value = message.value as {
      gateway: string;
      gatewayReference: string;
      currency: string;
      amount: string;
    };
    payments.set(message.dedupeKey, {
      gateway: value.gateway,
      reference: value.gatewayReference,
      currency: value.currency,
      amount: minorOf(value.amount),
    });
  }
  return {
    orderId,
    steps: steps.filter((step) => step.length > 0),
    payments: [...payments.values()],
    ...expected,
  };
}

/** "1234.56" → 123456n: the digits without the point (amounts here always carry the currency's digits). */
const minorOf = (text: string): bigint => BigInt(text.replace('.', ''));
