/**
 * `npm run demo` as a user runs it: a child process against the real
 * services. With DATABASE_URL and TOPIC_PREFIX set (this file's own) it tells
 * the whole story, exits 0 and leaves what it was given in place; without
 * them it makes a database and prefix of its own and removes them at the end.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { defaults } from '../../src/config';
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
  const finalTable = out.slice(out.lastIndexOf('Step 11 of 11'));
  expect(finalTable).toMatch(
    /m1-design\s+RELEASED\s+4\s+1000\.00\s+1000\.00\s+0\.00\s+0\.00\s+1000\.00\s+100\.00\s+0\.00/,
  );
  expect(finalTable).toMatch(
    /m2-build\s+RELEASED\s+4\s+2000\.00\s+4000\.00\s+0\.00\s+0\.00\s+2000\.00\s+200\.00\s+2000\.00/,
  );
  expect(finalTable).toMatch(
    /m3-finishing\s+RELEASED\s+4\s+2000\.00\s+2000\.00\s+0\.00\s+0\.00\s+1200\.00\s+120\.00\s+800\.00/,
  );
  expect(out).toMatch(
    /funded = held \+ disputed \+ released \+ refunded: 7000\.00 = 0\.00 \+ 0\.00 \+ 4200\.00 \+ 2800\.00 -> true/,
  );
  expect(out).toMatch(/net to zero -> true/);
  expect(out).toMatch(/Reconciliation as of \S+: all \d+ checks clean/);
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

  // The story's rows are in the given database: three released milestones, four payments (the retry is not one).
  const milestones = await ctx
    .db('milestones')
    .orderBy('sequence')
    .select('milestone_id', 'state', 'released_minor', 'fees_minor', 'refunded_minor');
  expect(milestones).toEqual([
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
  expect((await ctx.db('payments').count({ n: '*' }))[0]!.n).toBe('4');
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
