/**
 * `escrow-worker liquidity [--as-of ISO] [--json]`: where the platform's
 * money is, per currency — the escrow hold (disputed funds never in it),
 * disputed, provider payable (and the part in payout), refund payable,
 * receivable, revenue and the money at the gateways — now, or as of a past
 * moment read back from the append-only ledger. The same view as GET
 * /liquidity (src/views/liquidity-view.ts), for finance at a terminal.
 * Exit 0, 2 on a usage error (an --as-of that names no past moment).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { createKnex } from '../db/knex';
import { renderTable } from '../format/text-table';
import { parseAsOf } from '../ops/query-parameters';
import { liquidityView } from '../views/liquidity-view';

export const help = `usage: escrow-worker liquidity [--as-of ISO] [--json]

Per currency: escrow hold, disputed, provider payable (of which in payout), refund
payable, receivable (owed back by providers after chargebacks), revenue, and the
money at the gateways (gateway clearing), which equals the others summed, less the
receivable. --as-of reads the balances at a past moment from the ledger
(2026-06-01T09:30:00Z, or with an offset such as +02:00).

exit: 0; 2 a usage error.
`;

export async function run(args: readonly string[]): Promise<number> {
  let values: { 'as-of'?: string; json: boolean; help: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'as-of': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`escrow-worker liquidity: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const asOf = parseAsOf(values['as-of'] ?? null, new Date());
  if (!asOf.ok) {
    process.stderr.write(
      `escrow-worker liquidity: --as-of: ${asOf.problem.error.replace(/^asOf /, '')}\n`,
    );
    return 2;
  }
  const db = createKnex(loadConfig(), { poolMax: 1 });
  try {
    const view = await liquidityView(db, asOf.value?.text);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
      return 0;
    }
    const rows = view.currencies.map((c) => [
      c.currency,
      c.escrowHold,
      c.disputed,
      c.providerPayable,
      `${c.inPayout.amount} (${c.inPayout.count})`,
      c.refundPayable,
      c.receivable,
      c.revenue,
      c.gatewayClearing,
    ]);
    const right = { align: 'right' as const };
    const lines = [
      view.asOf ? `liquidity as of ${view.asOf}` : 'liquidity now',
      '',
      ...(rows.length === 0
        ? ['no money yet']
        : renderTable(
            [
              { title: 'currency' },
              { title: 'escrow hold', ...right },
              { title: 'disputed', ...right },
              { title: 'provider payable', ...right },
              { title: 'in payout (count)', ...right },
              { title: 'refund payable', ...right },
              { title: 'receivable', ...right },
              { title: 'revenue', ...right },
              { title: 'at the gateways', ...right },
            ],
            rows,
          )),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}
