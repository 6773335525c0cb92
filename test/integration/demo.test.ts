/**
 * `npm run demo` as a user runs it: a child process against the real
 * services. With DATABASE_URL and TOPIC_PREFIX set (this file's own) it tells
 * the whole story, exits 0 and leaves what it was given in place; without
 * them it makes a database and prefix of its own and removes them at the end.
 * The story's figures are checked exactly as printed: the escrow part, then
 * the money loop (a payout paid for its net, a refund failed, retried by the
 * operator command and paid, a chargeback after payout made a receivable and
 * recovered by the provider's next release), the provider view and liquidity.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { defaults } from '../../src/config';
import { providerView } from '../../src/views/provider-view';
import { dropDatabases } from '../support/databases';
import { withDatabase } from '../support/endpoints';
import { type CommandResult, runScript } from '../support/cli';
import { useTestContext } from '../support/test-context';

const ctx = useTestContext();

type DemoResult = CommandResult;

function runDemo(env: NodeJS.ProcessEnv): Promise<DemoResult> {
  return runScript('src/demo/main.ts', [], env);
}

function expectTheWholeStory(result: DemoResult): void {
  if (result.code !== 0) throw new Error(`demo exited ${result.code}:\n${result.stderr}`);
  const out = result.stdout;
  expect(out).toMatch(/worker verdict: KEPT/);
  expect(out).toMatch(/PENDING_ORDER \(kept, waiting for its order; 0 funded\)/);
  expect(out).toMatch(/worker verdict: DUPLICATE of \S+-installment-2 \(same gateway reference\)/);
  expect(out).toMatch(
    /escrow\.payouts\.v1\s+PAYOUT_REQUESTED\s+m1-design\s+gross 1000\.00 = fee 100\.00 \+ net 900\.00/,
  );
  expect(out).toMatch(
    /escrow\.refunds\.v1\s+REFUND_REQUESTED\s+m2-build\s+2000\.00 back to buyer-maria, reason PARTIAL_COMPLETION/,
  );
  expect(out).toMatch(
    /FUNDS_REFUNDED\s+m2-build\s+state AWAITING_RELEASE, refunded 2000\.00 \(PARTIAL_COMPLETION\)/,
  );
  expect(out).toMatch(/PAYOUT_REQUESTED\s+m2-build\s+gross 2000\.00 = fee 200\.00 \+ net 1800\.00/);
  expect(out).toMatch(
    /DISPUTE_RESOLVED\s+m3-finishing\s+state RELEASED, provider 1200\.00, buyer 800\.00/,
  );
  expect(out).toMatch(
    /PAYOUT_REQUESTED\s+m3-finishing\s+gross 1200\.00 = fee 120\.00 \+ net 1080\.00/,
  );
  expect(out).toMatch(
    /REFUND_REQUESTED\s+m3-finishing\s+800\.00 back to buyer-maria, reason DISPUTE/,
  );
  // The final table: every milestone released, with its balances.
  const finalTable = out.slice(out.lastIndexOf('Step 11 of 18'));
  expect(finalTable).toMatch(
    /m1-design\s+RELEASED\s+4\s+1000\.00\s+1000\.00\s+0\.00\s+0\.00\s+1000\.00\s+100\.00\s+0\.00/,
  );
  expect(finalTable).toMatch(
    /m2-build\s+RELEASED\s+4\s+2000\.00\s+4000\.00\s+0\.00\s+0\.00\s+2000\.00\s+200\.00\s+2000\.00/,
  );
  expect(finalTable).toMatch(
    /m3-finishing\s+RELEASED\s+4\s+2000\.00\s+2000\.00\s+0\.00\s+0\.00\s+1200\.00\s+120\.00\s+800\.00/,
  );
  expectTheMoneyLoop(out);
  expect(out).toMatch(
    /funded = held \+ disputed \+ released \+ refunded: 7000\.00 = 0\.00 \+ 0\.00 \+ 4200\.00 \+ 2800\.00 -> true/,
  );
  expect(out).toMatch(
    /funded = held \+ disputed \+ released \+ refunded: 1500\.00 = 0\.00 \+ 0\.00 \+ 1500\.00 \+ 0\.00 -> true/,
  );
  expect(out.match(/net to zero -> true/g)).toHaveLength(2);
  expect(out).toMatch(/Reconciliation as of \S+: all \d+ checks clean/);
}

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** The text of one step, from its heading to the next. */
function stepText(out: string, number: number): string {
  const start = out.indexOf(`Step ${number} of 18:`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = out.indexOf(`Step ${number + 1} of 18:`, start);
  return out.slice(start, next < 0 ? out.indexOf('\nSummary\n', start) : next);
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A table row: its cells in order, any spacing between them, the whole row. */
const row = (...cells: string[]) =>
  new RegExp(`(^|\\n)\\s*${cells.map(escaped).join('\\s+')}\\s*\\n`);

/** The provider's figures: payable, payouts requested (n), paid out (n), failed (n), receivable. */
const figures = (payable: string, requested: string, paid: string, receivable: string) =>
  row('USD', payable, requested, paid, '0.00 (0)', receivable);

function expectTheMoneyLoop(out: string): void {
  // The payout of m1-design is paid for its exact net, naming its request.
  const paid = stepText(out, 12);
  const payoutId = new RegExp(`PAYOUT_PAID 900\\.00 USD for m1-design, request (${uuid})`).exec(
    paid,
  )?.[1];
  expect(payoutId).toBeDefined();
  expect(paid).toMatch(
    row(
      'escrow.events.v1',
      'PAYOUT_SETTLED',
      'm1-design',
      `900.00 paid to provider-oak-and-tile for request ${payoutId}`,
    ),
  );
  expect(paid).toMatch(
    /PAYOUT_SETTLEMENT\s+m1-design\s+provider payable provider-oak-and-tile\s+-900\.00/,
  );
  expect(paid).toMatch(figures('2880.00', '2880.00 (2)', '900.00 (1)', '0.00'));

  // The refund of m2-build fails; nothing moves.
  const failed = stepText(out, 13);
  const refundId = new RegExp(
    `REFUND_FAILED 2000\\.00 USD for m2-build, request (${uuid}) \\(via stripe/re_build_\\S+\\), reason ACCOUNT_CLOSED`,
  ).exec(failed)?.[1];
  expect(refundId).toBeDefined();
  expect(failed).toContain(
    `2000.00 not paid (ACCOUNT_CLOSED), still payable; request ${refundId} FAILED`,
  );
  expect(failed).toContain('(no ledger transaction: no money moved)');

  // The operator command asks again: a new request for the same 2000.00, read back from Kafka.
  const retry = stepText(out, 14);
  expect(retry).toContain(`operator runs: escrow-worker refunds retry --outcome ${refundId}`);
  const retriedId = new RegExp(
    `${refundId}\\s+kitchen-\\S+\\s+m2-build\\s+buyer-maria\\s+USD\\s+2000\\.00\\s+PARTIAL_COMPLETION\\s+.*ACCOUNT_CLOSED\\s+(${uuid})`,
  ).exec(retry)?.[1];
  expect(retriedId).toBeDefined();
  expect(retriedId).not.toBe(refundId);
  expect(retry).toContain('1 refund asked for again');
  expect(retry).toMatch(
    new RegExp(
      `escrow\\.refunds\\.v1\\s+REFUND_REQUESTED\\s+m2-build\\s+2000\\.00 back to buyer-maria, reason PARTIAL_COMPLETION, .*\\(asks again for ${refundId}\\)`,
    ),
  );

  // The new request is paid: the refund payable settled through clearing.
  const refunded = stepText(out, 15);
  expect(refunded).toContain(`REFUND_PAID 2000.00 USD for m2-build, request ${retriedId}`);
  expect(refunded).toMatch(
    /REFUND_SETTLEMENT\s+m2-build\s+buyer refund payable buyer-maria\s+-2000\.00/,
  );
  expect(refunded).toMatch(
    row(
      'escrow.events.v1',
      'REFUND_SETTLED',
      'm2-build',
      `2000.00 paid to buyer-maria for request ${retriedId}`,
    ),
  );

  // The deposit charged back after release and payout: the fee reversed, the net a receivable.
  const chargeback = stepText(out, 16);
  expect(chargeback).toContain(
    '1000.00 charged back = from held 0.00 + disputed 0.00 + fee reversed 100.00 + receivable 900.00 + platform 0.00; state RELEASED',
  );
  expect(chargeback).toMatch(/platform revenue\s+-100\.00/);
  expect(chargeback).toMatch(/provider receivable provider-oak-and-tile\s+-900\.00/);
  expect(chargeback).toMatch(figures('2880.00', '2880.00 (2)', '900.00 (1)', '900.00'));

  // The provider's next order releases 1500.00: 900.00 of it recovers the receivable.
  const recovered = stepText(out, 18);
  expect(recovered).toMatch(
    /PAYOUT_REQUESTED\s+m1-tiling\s+gross 1500\.00 = fee 150\.00 \+ recovered 900\.00 \+ net 450\.00 to provider-oak-and-tile/,
  );
  expect(recovered).toMatch(/provider receivable provider-oak-and-tile\s+\+900\.00/);
  expect(recovered).toMatch(figures('3330.00', '3330.00 (3)', '900.00 (1)', '0.00'));

  // The provider view at the end, and the platform's liquidity with its identity.
  const end = out.slice(out.indexOf('The provider at the end'));
  expect(end).toMatch(figures('3330.00', '3330.00 (3)', '900.00 (1)', '0.00'));
  expect(end).toMatch(
    new RegExp(
      `${payoutId}\\s+kitchen-\\S+\\s+m1-design\\s+1000\\.00\\s+100\\.00\\s+0\\.00\\s+900\\.00\\s+PAID\\s+po_design_`,
    ),
  );
  expect(end).toMatch(
    /bathroom-\S+\s+m1-tiling\s+1500\.00\s+150\.00\s+900\.00\s+450\.00\s+REQUESTED/,
  );
  expect(end).toContain(
    'USD: gateway clearing = hold + disputed + provider payable + refund payable + revenue - receivable: ' +
      '4600.00 = 0.00 + 0.00 + 3330.00 + 800.00 + 470.00 - 0.00 (4600.00) -> true',
  );
}

/**
 * What the money loop left in the database: each request's state (the failed refund RETRIED by the
 * one that was paid), the chargeback recovered in full, and the provider view's figures.
 */
async function expectTheLoopStored(): Promise<void> {
  const requests = await ctx
    .db('disbursements')
    .orderBy(['requested_at', 'kind', 'milestone_id'])
    .select<
      {
        kind: string;
        milestone_id: string;
        amount_minor: string;
        recovered_minor: string | null;
        state: string;
        failure_reason: string | null;
        retry_of: string | null;
      }[]
    >(
      'kind',
      'milestone_id',
      'amount_minor',
      'recovered_minor',
      'state',
      'failure_reason',
      'retry_of',
    );
  const brief = requests.map((row) => [
    row.kind,
    row.milestone_id,
    row.amount_minor,
    row.recovered_minor,
    row.state,
    row.failure_reason,
    row.retry_of === null ? null : 'a retry',
  ]);
  expect(brief).toEqual([
    ['PAYOUT', 'm1-design', '90000', '0', 'PAID', null, null],
    ['PAYOUT', 'm2-build', '180000', '0', 'REQUESTED', null, null],
    ['REFUND', 'm2-build', '200000', null, 'RETRIED', 'ACCOUNT_CLOSED', null],
    ['PAYOUT', 'm3-finishing', '108000', '0', 'REQUESTED', null, null],
    ['REFUND', 'm3-finishing', '80000', null, 'REQUESTED', null, null],
    ['REFUND', 'm2-build', '200000', null, 'PAID', null, 'a retry'],
    ['PAYOUT', 'm1-tiling', '45000', '90000', 'REQUESTED', null, null],
  ]);
  const chargebacks = await ctx
    .db('chargebacks')
    .select(
      'milestone_id',
      'amount_minor',
      'fee_reversed_minor',
      'receivable_minor',
      'recovered_minor',
    );
  expect(chargebacks).toEqual([
    {
      milestone_id: 'm1-design',
      amount_minor: '100000',
      fee_reversed_minor: '10000',
      receivable_minor: '90000',
      recovered_minor: '90000',
    },
  ]);
  const provider = await providerView(ctx.db, 'provider-oak-and-tile', { payoutsLimit: 10 });
  if (!('view' in provider)) throw new Error(provider.absent);
  expect(provider.view.currencies).toEqual([
    {
      currency: 'USD',
      payable: '3330.00',
      payoutsRequested: { count: 3, amount: '3330.00' },
      paidOut: { count: 1, amount: '900.00' },
      failedPayouts: { count: 0, amount: '0.00' },
      receivable: '0.00',
    },
  ]);
}

async function withAdmin<T>(work: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    brokers: [...ctx.config.KAFKA_BROKERS],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

test('with DATABASE_URL and TOPIC_PREFIX set it tells the whole story there, and drops nothing it was given', async () => {
  const result = await runDemo({
    ...process.env,
    DATABASE_URL: ctx.config.DATABASE_URL,
    TOPIC_PREFIX: ctx.config.TOPIC_PREFIX,
  });
  expectTheWholeStory(result);
  expect(result.stdout).toMatch(/given by DATABASE_URL; never dropped/);

  // The story's rows are in the given database: four released milestones (the bathroom's first,
  // by order id), five payments (the retried callback is not one).
  const milestones = await ctx
    .db('milestones')
    .orderBy(['order_id', 'sequence'])
    .select('milestone_id', 'state', 'released_minor', 'fees_minor', 'refunded_minor');
  expect(milestones).toEqual([
    {
      milestone_id: 'm1-tiling',
      state: 'RELEASED',
      released_minor: '150000',
      fees_minor: '15000',
      refunded_minor: '0',
    },
    {
      milestone_id: 'm1-design',
      state: 'RELEASED',
      released_minor: '100000',
      fees_minor: '10000',
      refunded_minor: '0',
    },
    {
      milestone_id: 'm2-build',
      state: 'RELEASED',
      released_minor: '200000',
      fees_minor: '20000',
      refunded_minor: '200000',
    },
    {
      milestone_id: 'm3-finishing',
      state: 'RELEASED',
      released_minor: '120000',
      fees_minor: '12000',
      refunded_minor: '80000',
    },
  ]);
  expect((await ctx.db('payments').count({ n: '*' }))[0]!.n).toBe('5');
  await expectTheLoopStored();
  // Its topics stay (they are the prefix's); its own consumer groups are gone.
  await withAdmin(async (admin) => {
    expect(await admin.listTopics()).toContain(`${ctx.config.TOPIC_PREFIX}escrow.orders.v1`);
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId);
    expect(
      groups.filter((group) => group.startsWith(`${ctx.config.TOPIC_PREFIX}escrow-demo-`)),
    ).toEqual([]);
  });
}, 90_000);

// The demo's own database lives on the default server; only when the tests use that server too can
// this file see (and, after a failure, drop) it.
const testsUseDefaultServer =
  new URL(process.env.DATABASE_URL ?? defaults.DATABASE_URL).host ===
  new URL(defaults.DATABASE_URL).host;
if (!testsUseDefaultServer) {
  process.stderr.write(
    '\n[demo] SKIPPED "without them it makes its own database and prefix": the tests run on ' +
      `${new URL(process.env.DATABASE_URL!).host}, not on the demo's default server ` +
      `${new URL(defaults.DATABASE_URL).host}, so this file could not see or drop the database ` +
      'the demo makes there. Run `npm test` with the local services to run it.\n',
  );
}
let ownDatabase: string | undefined;
let ownPrefix: string | undefined;
// A demo that failed half-way must not leave its database or topics behind.
afterAll(async () => {
  if (ownDatabase) await dropDatabases(process.env.DATABASE_URL!, ownDatabase);
  if (ownPrefix) {
    await withAdmin(async (admin) => {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(ownPrefix!));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    });
  }
});

(testsUseDefaultServer ? test : test.skip)(
  'without them it makes its own database and prefix, and removes both at the end',
  async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DATABASE_URL;
    delete env.TOPIC_PREFIX;
    const result = await runDemo(env);
    ownDatabase = /database\s+postgres:\/\/\S+\/(escrow_demo_[0-9a-f]+)/.exec(result.stdout)?.[1];
    const prefix = /prefix "(demo-[0-9a-f]+\.)"/.exec(result.stdout)?.[1];
    ownPrefix = prefix;
    expectTheWholeStory(result);
    expect(ownDatabase).toBeDefined();
    expect(prefix).toBeDefined();
    expect(result.stdout).toContain(`dropped database ${ownDatabase}`);

    const server = new Client({
      connectionString: withDatabase(process.env.DATABASE_URL!, 'postgres'),
    });
    await server.connect();
    try {
      const { rows } = await server.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        ownDatabase,
      ]);
      expect(rows).toEqual([]);
    } finally {
      await server.end();
    }
    await withAdmin(async (admin) => {
      expect((await admin.listTopics()).filter((topic) => topic.startsWith(prefix!))).toEqual([]);
    });
    const subjects = (await (
      await fetch(`${ctx.config.SCHEMA_REGISTRY_URL}/subjects`)
    ).json()) as string[];
    expect(subjects.filter((subject) => subject.startsWith(prefix!))).toEqual([]);
  },
  90_000,
);
