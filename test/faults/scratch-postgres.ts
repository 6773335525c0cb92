/**
 * A throwaway Postgres cluster for one fault run: initdb into a temp folder,
 * pg_ctl on a port of its own. The suite stops and restarts it at will, and
 * nobody else uses it, so "restart Postgres" never disturbs the machine's own
 * cluster (other sessions, the integration tests) on 5432.
 *
 * Postgres refuses to run as root, so as root every command runs as the
 * `postgres` system user (runuser) and the folder is handed to that user.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { commandExists, portOpen, run, sleep } from '../../infra/services/shell';
import { createKnex } from '../../src/db/knex';
import { migrateToLatest } from '../../src/db/migrate';

const binaries = '/usr/lib/postgresql/15/bin';

export type StopMode = 'fast' | 'immediate';

export class ScratchPostgres {
  private readonly dataDir: string;
  private readonly logFile: string;
  private closed = false;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.dataDir = path.join(dir, 'data');
    this.logFile = path.join(dir, 'postgres.log');
  }

  /** Creates the cluster and starts it. */
  static async create(parentDir: string, port: number): Promise<ScratchPostgres> {
    if (!commandExists(`${binaries}/initdb`)) {
      throw new Error(
        `The fault suite needs Postgres 15's initdb at ${binaries}/initdb to make a throwaway ` +
          'cluster it can restart; install postgresql-15 (Debian: apt-get install postgresql-15).',
      );
    }
    const dir = path.join(parentDir, 'postgres');
    mkdirSync(dir, { recursive: true });
    const pg = new ScratchPostgres(dir, port);
    if (runsAsRoot()) {
      const { uid, gid } = postgresUser();
      chownSync(dir, uid, gid);
    }
    // --no-sync only skips flushing initdb's own files; the running server keeps
    // fsync and synchronous_commit on, as production does. UTF8 whatever the
    // caller's locale: under SQL_ASCII length() would count bytes, not characters.
    await pg.pgCommand('initdb', [
      ...['-D', pg.dataDir, '--auth=trust', '-U', 'postgres', '--no-sync'],
      ...['--encoding=UTF8', '--locale=C.UTF-8'],
    ]);
    await pg.start();
    return pg;
  }

  /** A new database with the project's migrations applied; its URL. */
  async migratedDatabase(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
    const client = new Client({ connectionString: this.urlFor('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    const url = this.urlFor(name);
    const db = createKnex({ DATABASE_URL: url }, { poolMax: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    return url;
  }

  async start(): Promise<void> {
    if (this.closed) return; // a fault still in flight when the run ended
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c max_connections=200',
    ].join(' ');
    await this.pgCommand('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
      '-o',
      options,
      '-w',
      'start',
    ]);
    const deadline = Date.now() + 30_000;
    while (!(await this.accepts())) {
      if (Date.now() > deadline) {
        throw new Error(
          `The scratch Postgres on port ${this.port} did not accept connections within 30 s ` +
            `of starting; see ${this.logFile}.`,
        );
      }
      await sleep(200);
    }
  }

  /** Stops it for good (as a crash: nothing in it is kept); a fault in flight cannot start it again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop('immediate');
  }

  /** fast: sessions are ended cleanly; immediate: a crash, recovered from the WAL on start. */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    if (!(await portOpen(this.port))) return;
    await this.pgCommand('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  private async accepts(): Promise<boolean> {
    const client = new Client({
      connectionString: this.urlFor('postgres'),
      connectionTimeoutMillis: 1000,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private urlFor(name: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  private async pgCommand(binary: string, args: string[]): Promise<void> {
    const command = path.join(binaries, binary);
    const [program, programArgs] = runsAsRoot()
      ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
      : [command, args];
    const result = await run(program, programArgs, { cwd: this.dir, timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new Error(
        `${binary} ${args.join(' ')} failed for the scratch Postgres in ${this.dir} ` +
          `(exit ${String(result.code)}${result.timedOut ? ', timed out' : ''}):\n${result.output}` +
          `\nSee ${this.logFile}.`,
      );
    }
  }
}

const runsAsRoot = () => userInfo().uid === 0;

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [user, group] = [id('-u'), id('-g')];
  if (user.status !== 0 || group.status !== 0) {
    throw new Error(
      'The fault suite runs as root, and Postgres refuses root: it needs the `postgres` system ' +
        'user to own its throwaway cluster. Create it (the postgresql package does) or run as another user.',
    );
  }
  return { uid: Number(user.stdout.trim()), gid: Number(group.stdout.trim()) };
}
