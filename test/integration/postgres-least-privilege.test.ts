/**
 * Postgres as production runs it, on a scratch cluster of its own (TLS on,
 * SCRAM passwords, pg_hba admitting TCP only over TLS): `npm run migrate`
 * runs as the owner over sslmode=verify-full and grants the worker's role
 * its rights; the whole worker runs as that role and a story goes through
 * the one path; the role is refused every change to the ledger and the
 * schema with insufficient_privilege (42501), while the append-only
 * triggers still stop the owner; and a wrong password, an untrusted
 * certificate or a plaintext client stop the worker and migrate within
 * seconds with the variable and the fix, never the password, never a stack.
 */
import type { Knex } from 'knex';
import pino from 'pino';
import { type Config, loadConfig } from '../../src/config';
import { createKnex } from '../../src/db/knex';
import { grantWorkerRole } from '../../src/db/grant-worker';
import { applyEvent } from '../../src/pipeline/apply-event';
import type { EscrowCommand } from '../../src/domain/escrow';
import { runReconciliation } from '../../src/reconcile';
import { startWorker } from '../../src/worker';
import { runScript } from '../support/cli';
import {
  dispute,
  milestone,
  openOrder,
  payment,
  reached,
  refund,
  resolveDispute,
} from '../support/contract-pipeline';
import { randomOpsPort } from '../support/ops-port';
import { currentTestRun } from '../support/run';
import { startScratchPostgresTls, type ScratchPostgresTls } from '../support/scratch-postgres-tls';
import { waitUntil } from '../support/wait';
import { spawnWorker } from '../support/worker-process';

let pg: ScratchPostgresTls;
let ownerDb: Knex;
let workerDb: Knex;
let migrated: { code: number | null; stderr: string };
const prefix = `${currentTestRun().topicPrefix}pglp-`;

/** The configuration of a worker connecting with `databaseUrl`, on topics of its own. */
const configFor = (databaseUrl: string, extra: Record<string, string> = {}): Config =>
  loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    CONSUMER_GROUP: `${prefix}escrow-worker`,
    OPS_PORT: String(randomOpsPort()),
    LOG_LEVEL: 'info',
    ...extra,
  });
const migrate = (databaseUrl: string, extra: Record<string, string> = {}) =>
  runScript(
    'src/db/migrate-cli.ts',
    [],
    { ...process.env, DATABASE_URL: databaseUrl, ...extra },
    30_000,
  );

beforeAll(async () => {
  pg = await startScratchPostgresTls();
  migrated = await migrate(pg.url(pg.owner), { DATABASE_WORKER_ROLE: pg.worker.name });
  ownerDb = createKnex({ DATABASE_URL: pg.url(pg.owner) }, { poolMax: 2 });
  workerDb = createKnex({ DATABASE_URL: pg.url(pg.worker) }, { poolMax: 4 });
}, 60_000);

afterAll(async () => {
  await workerDb?.destroy();
  await ownerDb?.destroy();
  await pg?.stop();
});

test('npm run migrate runs as the owner over verify-full TLS and grants the worker exactly its rights', async () => {
  expect(migrated.stderr).toContain('migration(s) applied');
  expect(migrated.code).toBe(0);
  expect(migrated.stderr).toContain(`granted ${pg.worker.name} on schema public, and no more:`);
  expect(migrated.stderr).toContain('  ledger_entries: SELECT, INSERT\n');
  expect(migrated.stderr).toContain(
    '  accounts: SELECT, INSERT, UPDATE (balance_minor, version)\n',
  );
  expect(migrated.stderr).toContain('  knex_migrations: nothing\n');
  expect(migrated.stderr).not.toContain(pg.owner.password);

  // Both sessions are encrypted, and both roles' passwords are stored as SCRAM verifiers.
  for (const db of [ownerDb, workerDb]) {
    const { rows } = await db.raw<{ rows: { ssl: boolean }[] }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    expect(rows).toEqual([{ ssl: true }]);
  }
  const verifiers = await pg.asSuperuser(
    'postgres',
    async (client) =>
      (
        await client.query<{ rolname: string; scram: boolean }>(
          `SELECT rolname, rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid
         WHERE rolname = ANY($1) ORDER BY rolname`,
          [[pg.owner.name, pg.worker.name]],
        )
      ).rows,
  );
  expect(verifiers).toEqual([
    { rolname: pg.owner.name, scram: true },
    { rolname: pg.worker.name, scram: true },
  ]);

  // A second run changes nothing and grants the same again.
  const again = await migrate(pg.url(pg.owner), { DATABASE_WORKER_ROLE: pg.worker.name });
  expect(again.stderr).toContain('already up to date');
  expect(again.code).toBe(0);
});

test('the whole worker runs as that role: a story through the one path, published, released by the timer, reconciled', async () => {
  const config = configFor(pg.url(pg.worker));
  await ownerDb('outbox').insert({
    outcome_id: '00000000-0000-4000-8000-000000000001',
    topic: `${prefix}escrow.events.v1`,
    message_key: 'o-published-long-ago',
    type: 'ORDER_OPENED',
    payload: '{}',
    published_at: ownerDb.raw(`now() - interval '30 days'`),
  });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const worker = await startWorker(config, log);
  try {
    const settings = {
      topicPrefix: config.TOPIC_PREFIX,
      defaultFeeRate: config.PLATFORM_FEE_RATE,
      now: () => new Date(),
    };
    let offset = 0;
    const deliver = async (command: EscrowCommand) =>
      (
        await applyEvent(workerDb, settings, {
          topic: 'escrow.test',
          partition: 0,
          offset: String(++offset),
          occurredAt: new Date(),
          command,
        })
      ).verdict;
    const order = 'o-least-privilege';
    // Kept before its order, replayed when it opens; redelivered; then every kind of movement.
    expect(await deliver(payment(order, 'm-1', '600.00', 'ch-1'))).toBe('KEPT');
    const plan = [
      milestone('m-1', '600.00', 1),
      milestone('m-2', '400.00'),
      milestone('m-3', '100.00'),
    ];
    expect(await deliver(openOrder(order, plan))).toBe('APPLIED');
    expect(await deliver(payment(order, 'm-1', '600.00', 'ch-1'))).toBe('DUPLICATE');
    expect(await deliver(reached(order, 'm-1'))).toBe('APPLIED');
    expect(await deliver(payment(order, 'm-2', '400.00', 'ch-2'))).toBe('APPLIED');
    expect(await deliver(dispute('DISPUTE_OPENED', order, 'm-2'))).toBe('APPLIED');
    expect(await deliver(resolveDispute(order, 'm-2', '300.00', '100.00'))).toBe('APPLIED');
    expect(await deliver(payment(order, 'm-3', '100.00', 'ch-3'))).toBe('APPLIED');
    expect(await deliver(refund(order, 'm-3', '40.00'))).toBe('APPLIED');

    // The worker's own timer releases m-1 once its inspection second has passed.
    const stateOf = async (milestoneId: string) =>
      (
        await workerDb('milestones')
          .where({ order_id: order, milestone_id: milestoneId })
          .first<{ state: string }>('state')
      ).state;
    await waitUntil(async () => (await stateOf('m-1')) === 'RELEASED', 15_000, 'the timer release');
    // The worker's relay publishes every outcome and marks it published.
    await waitUntil(
      async () => (await workerDb('outbox').whereNull('published_at').first()) === undefined,
      15_000,
      'every outbox row published by the relay',
    );
    const kinds = await workerDb('ledger_transactions')
      .where({ order_id: order })
      .orderBy('transaction_id')
      .pluck<string[]>('kind');
    expect(kinds.sort()).toEqual([
      'DISPUTE_FREEZE',
      'DISPUTE_RESOLUTION',
      'FUNDING',
      'FUNDING',
      'FUNDING',
      'REFUND',
      'RELEASE',
    ]);
    // The relay pruned, as the worker, a row published long before the retention period.
    expect(await ownerDb('outbox').where({ message_key: 'o-published-long-ago' }).first()).toBe(
      undefined,
    );
    expect(await workerDb('releases').count<{ count: string }[]>({ count: '*' })).toEqual([
      { count: '2' },
    ]);
    const report = await runReconciliation(workerDb);
    expect(report.checks.filter((check) => check.status !== 'ok')).toEqual([]);
    // Nothing the worker did was refused: no warning or error of its own (Kafka's
    // leader elections for the new topics aside), and no failed relay round.
    const troubles = lines.filter((line) => {
      const entry = JSON.parse(line) as { level: number; component?: string; msg: string };
      const own = entry.level >= 40 && entry.component !== 'kafkajs';
      return own || entry.msg === 'outbox relay failed; retrying';
    });
    expect(troubles).toEqual([]);
  } finally {
    await worker.stop();
  }
}, 60_000);

const ledgerTables = ['ledger_transactions', 'ledger_entries', 'releases', 'accounts'];
const someColumn: Record<string, string> = {
  ledger_transactions: 'memo',
  ledger_entries: 'amount_minor',
  releases: 'fee_minor',
  accounts: 'code',
};

test.each(ledgerTables)(
  'the worker may not UPDATE, DELETE or TRUNCATE %s (42501 insufficient_privilege)',
  async (table) => {
    const column = someColumn[table]!;
    for (const statement of [
      `UPDATE ${table} SET ${column} = ${column}`,
      `DELETE FROM ${table}`,
      `TRUNCATE ${table}`,
    ]) {
      await expect(workerDb.raw(statement)).rejects.toMatchObject({ code: '42501' });
    }
  },
);

test('the worker may not alter the schema, change fee policies, rewrite the inbox or become the owner (42501)', async () => {
  const refused = [
    'ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only',
    'DROP TRIGGER ledger_entries_append_only ON ledger_entries',
    'ALTER TABLE ledger_entries ADD COLUMN note text',
    'DROP TABLE ledger_entries',
    'CREATE TABLE shadow_ledger (entry_id bigint)',
    'CREATE INDEX ledger_entries_by_currency ON ledger_entries (currency)',
    `CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql
       AS $$ BEGIN RETURN NEW; END $$`,
    `INSERT INTO fee_policies (effective_from, rate) VALUES (now(), 0)`,
    'DELETE FROM fee_policies',
    "UPDATE inbox SET payload_hash = ''",
    'DELETE FROM inbox',
    'UPDATE payments SET amount_minor = 1',
    'DELETE FROM milestones',
    'SELECT * FROM knex_migrations',
    `SET ROLE ${pg.owner.name}`,
  ];
  for (const statement of refused) {
    await expect(workerDb.raw(statement)).rejects.toMatchObject({ code: '42501' });
  }
});

test('the append-only triggers stay, a second wall: the owner is refused too (23000)', async () => {
  await expect(
    ownerDb.raw('UPDATE ledger_entries SET amount_minor = amount_minor'),
  ).rejects.toMatchObject({ code: '23000' });
  await expect(ownerDb.raw('TRUNCATE ledger_transactions CASCADE')).rejects.toMatchObject({
    code: '23000',
  });
});

test('migrate takes back a right granted beside the list, and refuses one the worker holds through PUBLIC', async () => {
  await ownerDb.raw('GRANT UPDATE, DELETE ON ledger_entries TO ??', [pg.worker.name]);
  await grantWorkerRole(ownerDb, pg.worker.name);
  await expect(workerDb.raw('DELETE FROM ledger_entries')).rejects.toMatchObject({ code: '42501' });

  await ownerDb.raw('GRANT DELETE ON ledger_entries TO PUBLIC');
  try {
    await expect(grantWorkerRole(ownerDb, pg.worker.name)).rejects.toMatchObject({
      code: 'WORKER_GRANTS_REFUSED',
      problems: [
        `${pg.worker.name} may DELETE ledger_entries beyond src/db/worker-grants.ts: it holds that ` +
          'through PUBLIC, another grantor or a membership; revoke it there.',
      ],
    });
  } finally {
    await ownerDb.raw('REVOKE DELETE ON ledger_entries FROM PUBLIC');
  }
  await expect(grantWorkerRole(ownerDb, 'no_such_role')).rejects.toThrow(
    /role no_such_role does not exist: create it as a login role/,
  );
  await expect(grantWorkerRole(ownerDb, pg.owner.name)).rejects.toThrow(
    /is the role migrate connects as/,
  );
});

describe('a connection that cannot work stops at once, naming DATABASE_URL and the fix', () => {
  const wrongPassword = 'not-the-password-7f3a';
  const noStack = (output: string) => expect(output).not.toMatch(/^\s+at /m);

  test('a wrong password: startWorker in-process, npm start and npm run migrate', async () => {
    const url = pg.url(pg.worker, { password: wrongPassword });
    const started = Date.now();
    const failure = await startWorker(configFor(url), pino({ level: 'silent' })).then(
      (worker) => worker.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(failure).toMatchObject({ code: 'DATABASE_AUTHENTICATION_FAILED', retryable: false });
    const message = (failure as Error).message;
    expect(message).toContain(
      `Postgres at 127.0.0.1:${pg.port}/escrow refused the password of role "${pg.worker.name}"`,
    );
    expect(message).toContain('Fix DATABASE_URL (or the file DATABASE_URL_FILE names)');
    expect(message).not.toContain(wrongPassword);

    const [spawned, migration] = await Promise.all([
      (async () => {
        const child = spawnWorker(configFor(url));
        const exited = await child.exited;
        return { code: exited.code, output: child.output() };
      })(),
      migrate(pg.url(pg.owner, { password: wrongPassword })),
    ]);
    expect(spawned.code).toBe(1);
    expect(spawned.output).toContain(`escrow-worker failed to start: ${message}`);
    noStack(spawned.output);
    expect(spawned.output).not.toContain(wrongPassword);
    expect(migration.code).toBe(1);
    expect(migration.stderr).toContain(
      `migrate failed: Postgres at 127.0.0.1:${pg.port}/escrow refused the password of role "${pg.owner.name}"`,
    );
    noStack(migration.stderr);
    expect(migration.stderr).not.toContain(wrongPassword);
  }, 60_000);

  test('an untrusted certificate: a CA file of another CA, or none with verify-full', async () => {
    const otherCa = pg.url(pg.worker, { caFile: pg.certificates.otherCaFile });
    const failure = await startWorker(configFor(otherCa), pino({ level: 'silent' })).then(
      (worker) => worker.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'DATABASE_CERTIFICATE_UNTRUSTED', retryable: false });
    expect((failure as Error).message).toContain(
      `Fix DATABASE_URL (or the file DATABASE_URL_FILE names): its sslrootcert (${pg.certificates.otherCaFile}) ` +
        "is not the CA that signs the server's certificate; name the PEM file of that CA.",
    );

    const migration = await migrate(pg.url(pg.owner, { caFile: null }));
    expect(migration.code).toBe(1);
    expect(migration.stderr).toContain(
      `migrate failed: Postgres at 127.0.0.1:${pg.port}/escrow presented a certificate DATABASE_URL does not trust`,
    );
    expect(migration.stderr).toContain('?sslmode=verify-full&sslrootcert=/path/to/ca.pem');
    noStack(migration.stderr);
    expect(migration.stderr).not.toContain(pg.owner.password);
  }, 60_000);

  test('a plaintext client against a server that admits TLS only', async () => {
    const migration = await migrate(pg.url(pg.owner, { caFile: null, sslmode: null }));
    expect(migration.code).toBe(1);
    expect(migration.stderr).toContain(
      `migrate failed: Postgres at 127.0.0.1:${pg.port}/escrow does not admit role "${pg.owner.name}"`,
    );
    expect(migration.stderr).toContain('a server that accepts only TLS needs ?sslmode=verify-full');
    noStack(migration.stderr);
  }, 30_000);

  test('a CA file that cannot be read is a configuration error before any connection', () => {
    expect(() => configFor(pg.url(pg.worker, { caFile: '/nonexistent/ca.pem' }))).toThrow(
      'DATABASE_URL: sslrootcert="/nonexistent/ca.pem" cannot be read (ENOENT); name the PEM file of the CA that signs the Postgres server, readable by the worker.',
    );
  });
});
