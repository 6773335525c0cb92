/**
 * Per-file databases: the harness migrates one template database per run, and
 * each test file clones its own from it (CREATE DATABASE ... TEMPLATE), so files
 * run in parallel without seeing each other's rows.
 */
import { Client } from 'pg';
import { withDatabase } from './endpoints';

async function withMaintenanceClient<T>(
  serverUrl: string,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({
    connectionString: withDatabase(serverUrl, 'postgres'),
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  return `"${name}"`;
};

export async function createDatabase(serverUrl: string, name: string, template?: string) {
  await withMaintenanceClient(serverUrl, async (client) => {
    const from = template ? ` TEMPLATE ${quoted(template)}` : '';
    // Two clones of one template at the same instant can briefly collide on the
    // template's lock ("being accessed by other users"); try again shortly.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoted(name)}${from}`);
        return;
      } catch (error) {
        // SQLSTATE 55006 object_in_use: "source database ... is being accessed by other users".
        const accessed = (error as { code?: unknown }).code === '55006';
        if (!accessed || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
}

export async function dropDatabases(serverUrl: string, namePrefix: string): Promise<string[]> {
  return withMaintenanceClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [namePrefix],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${quoted(datname)} WITH (FORCE)`);
    }
    return rows.map((row) => row.datname);
  });
}
