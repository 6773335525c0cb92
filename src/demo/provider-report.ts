/**
 * Where the money is after escrow, as the operations API shows it: the
 * provider's figures (GET /providers/{id}: payable, payouts requested and not
 * settled, paid out, failed, receivable) with their payouts, and the
 * platform's liquidity (GET /liquidity), each read through the view function
 * the API serves. The liquidity identity is checked on the figures in bigint
 * minor units: gateway clearing = escrow hold + disputed + provider payable +
 * refund payable + revenue - receivable.
 */
import type { Knex } from 'knex';
import { compare, formatAmount, type Money, parseAmount, subtract, sum } from '../domain/money';
import { renderTable } from '../format/text-table';
import { type LiquidityCurrencyView, liquidityView } from '../views/liquidity-view';
import type { CountedAmount } from '../views/view-support';
import { type ProviderView, providerView } from '../views/provider-view';

const right = 'right' as const;
const counted = (figure: CountedAmount) => `${figure.amount} (${figure.count})`;

async function readProvider(db: Knex, providerId: string): Promise<ProviderView> {
  const result = await providerView(db, providerId, { payoutsLimit: 20 });
  if ('absent' in result) throw new Error(`the provider view has nothing: ${result.absent}`);
  return result.view;
}

/** The provider's money per currency: one row each, as GET /providers/{id} answers. */
export async function providerFigureLines(db: Knex, providerId: string): Promise<string[]> {
  const view = await readProvider(db, providerId);
  return renderTable(
    [
      { title: 'currency' },
      { title: 'payable', align: right },
      { title: 'payouts requested (n)', align: right },
      { title: 'paid out (n)', align: right },
      { title: 'failed (n)', align: right },
      { title: 'receivable', align: right },
    ],
    view.currencies.map((figures) => [
      figures.currency,
      figures.payable,
      counted(figures.payoutsRequested),
      counted(figures.paidOut),
      counted(figures.failedPayouts),
      figures.receivable,
    ]),
  );
}

/** The figures and then every payout, oldest first, with how it was settled. */
export async function providerViewLines(db: Knex, providerId: string): Promise<string[]> {
  const view = await readProvider(db, providerId);
  const payouts = [...view.payouts].reverse();
  return [
    ...(await providerFigureLines(db, providerId)),
    '',
    ...renderTable(
      [
        { title: 'payout (outcomeId)' },
        { title: 'order' },
        { title: 'milestone' },
        { title: 'gross', align: right },
        { title: 'fee', align: right },
        { title: 'recovered', align: right },
        { title: 'net', align: right },
        { title: 'state' },
        { title: 'settled by' },
      ],
      payouts.map((payout) => [
        payout.outcomeId,
        payout.orderId,
        payout.milestoneId ?? '-',
        payout.grossAmount,
        payout.feeAmount,
        payout.recoveredAmount,
        payout.netAmount,
        payout.state,
        payout.settlementReference ?? (payout.failureReason === null ? '-' : payout.failureReason),
      ]),
    ),
    ...(view.morePayouts ? ['(older payouts left out)'] : []),
  ];
}

export interface LiquidityCheck {
  readonly lines: string[];
  /** Gateway clearing equals what the ledger says the platform holds, in every currency. */
  readonly balanced: boolean;
}

function identity(figures: LiquidityCurrencyView): { line: string; holds: boolean } {
  const { currency } = figures;
  const amount = (text: string): Money =>
    parseAmount(text, currency, { allowZero: true, allowNegative: true });
  const held = sum(currency, [
    amount(figures.escrowHold),
    amount(figures.disputed),
    amount(figures.providerPayable),
    amount(figures.refundPayable),
    amount(figures.revenue),
  ]);
  const accounted = subtract(held, amount(figures.receivable));
  const holds = compare(amount(figures.gatewayClearing), accounted) === 0;
  return {
    holds,
    line:
      `${currency}: gateway clearing = hold + disputed + provider payable + refund payable + ` +
      `revenue - receivable: ${figures.gatewayClearing} = ${figures.escrowHold} + ` +
      `${figures.disputed} + ${figures.providerPayable} + ${figures.refundPayable} + ` +
      `${figures.revenue} - ${figures.receivable} (${formatAmount(accounted)}) -> ${String(holds)}`,
  };
}

/** GET /liquidity for the whole database the demo used, with its identity per currency. */
export async function liquidityLines(db: Knex): Promise<LiquidityCheck> {
  const view = await liquidityView(db);
  const rows: [string, (figures: LiquidityCurrencyView) => string, string][] = [
    ['escrow hold', (f) => f.escrowHold, 'held for milestones (the pool)'],
    ['disputed', (f) => f.disputed, 'frozen by open disputes'],
    ['provider payable', (f) => f.providerPayable, 'earned by providers, not paid out yet'],
    ['  in payout (n)', (f) => counted(f.inPayout), 'of which asked for and not settled'],
    ['refund payable', (f) => f.refundPayable, 'owed back to buyers, not paid yet'],
    ['receivable', (f) => f.receivable, 'owed back by providers after chargebacks'],
    ['revenue', (f) => f.revenue, "the platform's fees, less what chargebacks took"],
    [
      'gateway clearing',
      (f) => f.gatewayClearing,
      'at the gateways: received - paid - charged back',
    ],
  ];
  const checks = view.currencies.map(identity);
  return {
    balanced: checks.every((check) => check.holds),
    lines: [
      ...renderTable(
        [
          { title: 'account' },
          ...view.currencies.map((figures) => ({ title: figures.currency, align: right })),
          { title: '' },
        ],
        rows.map(([name, figure, meaning]) => [
          name,
          ...view.currencies.map((figures) => figure(figures)),
          meaning,
        ]),
      ),
      '',
      ...checks.map((check) => check.line),
    ],
  };
}
