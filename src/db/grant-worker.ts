/**
 * `npm run migrate` with DATABASE_WORKER_ROLE: gives the worker's role
 * exactly the rights of src/db/worker-grants.ts on the migrated schema, in
 * one transaction (a running worker never sees them half applied), and then
 * reads back what the role can do — through its memberships and PUBLIC too —
 * and refuses (rolling the grants back) unless it is exactly that. Re-run on
 * every migrate, so the rights converge: what the list no longer names is
 * taken away.
 */
import type { Knex } from 'knex';
import { describeGrant, expectedPrivilege, workerGrants } from './worker-grants';

export class WorkerGrantError extends Error {
  readonly code = 'WORKER_GRANTS_REFUSED';
  readonly retryable = false;
  constructor(
    readonly role: string,
    readonly problems: readonly string[],
  ) {
    super(
      `cannot give DATABASE_WORKER_ROLE ${role} the worker's rights; nothing was granted:\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'WorkerGrantError';
  }
}

export interface GrantReport {
  readonly role: string;
  readonly schema: string;
  /** One line per table: what the role may do with it. */
  readonly lines: readonly string[];
}

interface Column {
  table_name: string;
  column_name: string;
}

export async function grantWorkerRole(db: Knex, role: string): Promise<GrantReport> {
  return db.transaction(async (trx) => {
    const schema = await refuseUnfitRole(trx, role);
    const columns = await schemaColumns(trx);
    const tables = [...new Set(columns.map((column) => column.table_name))];
    const structural = listProblems(tables, columns);
    if (structural.length > 0) throw new WorkerGrantError(role, structural);

    // From nothing, so that a right the list dropped does not linger. Column
    // privileges go with the table's (REVOKE on a table revokes them too).
    await trx.raw('REVOKE ALL ON ALL TABLES IN SCHEMA ?? FROM ??', [schema, role]);
    await trx.raw('REVOKE ALL ON ALL SEQUENCES IN SCHEMA ?? FROM ??', [schema, role]);
    await trx.raw('REVOKE CREATE ON SCHEMA ?? FROM ??', [schema, role]);
    await trx.raw('GRANT USAGE ON SCHEMA ?? TO ??', [schema, role]);
    const sequences = new Set<string>();
    for (const table of tables.sort()) {
      const grant = workerGrants[table]!;
      const name = `${schema}.${table}`;
      if (grant.table.length > 0)
        await trx.raw(`GRANT ${grant.table.join(', ')} ON TABLE ?? TO ??`, [name, role]);
      if (grant.updateColumns)
        await trx.raw(
          `GRANT UPDATE (${grant.updateColumns.map(() => '??').join(', ')}) ON TABLE ?? TO ??`,
          [...grant.updateColumns, name, role],
        );
      for (const column of grant.sequences ?? []) {
        const { rows } = await trx.raw<{ rows: { sequence: string; name: string }[] }>(
          `SELECT s.oid::regclass::text AS sequence, s.relname AS name
           FROM pg_class s WHERE s.oid = pg_get_serial_sequence(?, ?)::regclass`,
          [name, column],
        );
        // The catalog's own name, quoted as needed by Postgres itself.
        await trx.raw(`GRANT USAGE ON SEQUENCE ${rows[0]!.sequence} TO ??`, [role]);
        sequences.add(rows[0]!.name);
      }
    }
    const problems = await heldApartFromGrants(trx, role, schema, columns, sequences);
    if (problems.length > 0) throw new WorkerGrantError(role, problems);
    return {
      role,
      schema,
      lines: tables.sort().map((table) => describeGrant(table, workerGrants[table]!)),
    };
  });
}

/** A role that could act as the owner makes grants meaningless; returns the schema. */
async function refuseUnfitRole(trx: Knex.Transaction, role: string): Promise<string> {
  const { rows } = await trx.raw<{
    rows: { owner: string; schema: string; found: boolean; superuser: boolean; member: boolean }[];
  }>(
    `SELECT current_user AS owner, current_schema() AS schema,
            r.rolname IS NOT NULL AS found, coalesce(r.rolsuper OR r.rolbypassrls, false) AS superuser,
            r.rolname IS NOT NULL AND pg_has_role(r.rolname, current_user, 'MEMBER') AS member
     FROM (SELECT 1) one LEFT JOIN pg_roles r ON r.rolname = ?`,
    [role],
  );
  const { owner, schema, found, superuser, member } = rows[0]!;
  const problems = !found
    ? [
        `role ${role} does not exist: create it as a login role with a password of its own ` +
          `(CREATE ROLE ${role} LOGIN PASSWORD '…'), then run \`npm run migrate\` again.`,
      ]
    : role === owner
      ? [
          `${role} is the role migrate connects as, the owner of the schema: the worker needs a ` +
            'role of its own (DATABASE_URL of the worker names it, DATABASE_WORKER_ROLE too).',
        ]
      : superuser
        ? [`${role} is a superuser (or bypasses row security), which no grant can restrict.`]
        : member
          ? [
              `${role} is a member of ${owner} and may act as the owner: REVOKE ${owner} FROM ${role}.`,
            ]
          : [];
  if (problems.length > 0) throw new WorkerGrantError(role, problems);
  return schema;
}

async function schemaColumns(trx: Knex.Transaction): Promise<Column[]> {
  const { rows } = await trx.raw<{ rows: Column[] }>(
    `SELECT c.relname AS table_name, a.attname AS column_name
     FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
       AND c.relkind IN ('r', 'p', 'v', 'm')
     ORDER BY 1, a.attnum`,
  );
  return rows;
}

/** Tables the list does not know, and entries naming what the schema does not have. */
function listProblems(tables: readonly string[], columns: readonly Column[]): string[] {
  const problems = tables
    .filter((table) => workerGrants[table] === undefined)
    .map(
      (table) =>
        `table ${table} has no entry in src/db/worker-grants.ts: add one saying what the ` +
        'worker may do with it (an empty one for nothing).',
    );
  for (const [table, grant] of Object.entries(workerGrants)) {
    if (!tables.includes(table)) {
      problems.push(`src/db/worker-grants.ts names table ${table}, which the schema has not.`);
      continue;
    }
    for (const column of [...(grant.updateColumns ?? []), ...(grant.sequences ?? [])]) {
      if (!columns.some((c) => c.table_name === table && c.column_name === column))
        problems.push(
          `src/db/worker-grants.ts names column ${table}.${column}, which is not there.`,
        );
    }
  }
  return problems;
}

/**
 * What the role can do, however it got it (grants of other roles, PUBLIC,
 * memberships), against what it should: every difference, in words.
 */
async function heldApartFromGrants(
  trx: Knex.Transaction,
  role: string,
  schema: string,
  columns: readonly Column[],
  sequences: ReadonlySet<string>,
): Promise<string[]> {
  const { rows: held } = await trx.raw<{ rows: Held[] }>(heldSql, [role, role, role]);
  const has = new Set(held.map((row) => `${row.table_name}|${row.privilege}|${row.column_name}`));
  const cells: Held[] = [
    ...columns.flatMap(({ table_name, column_name }) =>
      columnPrivileges.map((privilege) => ({ table_name, privilege, column_name })),
    ),
    ...[...new Set(columns.map((c) => c.table_name))].flatMap((table_name) =>
      tablePrivileges.map((privilege) => ({ table_name, privilege, column_name: null })),
    ),
  ];
  const excess = new Map<string, string[]>();
  const missing = new Map<string, string[]>();
  for (const { table_name, privilege, column_name } of cells) {
    const expected = expectedPrivilege(workerGrants[table_name]!, privilege, column_name);
    const actual = has.has(`${table_name}|${privilege}|${column_name}`);
    if (actual === expected) continue;
    const into = actual ? excess : missing;
    const key = `${privilege} ${table_name}`;
    into.set(key, [...(into.get(key) ?? []), ...(column_name === null ? [] : [column_name])]);
  }
  for (const row of held.filter((row) => row.column_name === sequenceMark)) {
    if (row.privilege !== 'USAGE' || !sequences.has(row.table_name))
      excess.set(`${row.privilege} sequence ${row.table_name}`, []);
  }
  const phrase = (key: string, cols: string[]) =>
    cols.length > 0 ? `${key} (${cols.join(', ')})` : key;
  const problems = [
    ...[...excess].map(
      ([key, cols]) =>
        `${role} may ${phrase(key, cols)} beyond src/db/worker-grants.ts: it holds that through ` +
        'PUBLIC, another grantor or a membership; revoke it there.',
    ),
    ...[...missing].map(([key, cols]) => `${role} may not ${phrase(key, cols)} after the grants.`),
  ];
  const { rows: onSchema } = await trx.raw<{ rows: { usage: boolean; create: boolean }[] }>(
    `SELECT has_schema_privilege(?, ?, 'USAGE') AS usage, has_schema_privilege(?, ?, 'CREATE') AS create`,
    [role, schema, role, schema],
  );
  if (!onSchema[0]!.usage)
    problems.push(
      `${role} may not use schema ${schema}: its owner must GRANT USAGE ON SCHEMA ${schema} TO ${role}.`,
    );
  if (onSchema[0]!.create)
    problems.push(
      `${role} may CREATE in schema ${schema}: as the schema's owner, REVOKE CREATE ON SCHEMA ` +
        `${schema} FROM PUBLIC (and from any role ${role} belongs to).`,
    );
  return problems;
}

interface Held {
  table_name: string;
  privilege: string;
  column_name: string | null;
}

const columnPrivileges = ['SELECT', 'INSERT', 'UPDATE', 'REFERENCES'];
const tablePrivileges = ['DELETE', 'TRUNCATE', 'TRIGGER'];
/** column_name of a sequence's rows in heldSql. */
const sequenceMark = '(sequence)';

// Every privilege the role holds in the schema, per column, per table and per sequence.
const heldSql = `
WITH relations AS (
  SELECT c.oid, c.relname, c.relkind FROM pg_class c
  WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
)
SELECT r.relname AS table_name, p.privilege, a.attname AS column_name
FROM relations r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
CROSS JOIN unnest(ARRAY['${columnPrivileges.join("', '")}']) AS p(privilege)
WHERE r.relkind IN ('r', 'p', 'v', 'm') AND has_column_privilege(?, r.oid, a.attnum, p.privilege)
UNION ALL
SELECT r.relname, p.privilege, NULL FROM relations r
CROSS JOIN unnest(ARRAY['${tablePrivileges.join("', '")}']) AS p(privilege)
WHERE r.relkind IN ('r', 'p', 'v', 'm') AND has_table_privilege(?, r.oid, p.privilege)
UNION ALL
SELECT r.relname, p.privilege, '${sequenceMark}' FROM relations r
CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p(privilege)
WHERE r.relkind = 'S' AND has_sequence_privilege(?, r.oid, p.privilege)`;
