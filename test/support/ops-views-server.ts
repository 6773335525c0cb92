/**
 * The operations API over a test file's own database, without the rest of a
 * worker: startOpsServer with the views the worker wires (operationsViews),
 * on a free port, with a token. `get` answers status and parsed JSON; the
 * file's money is made through the one path (test/support/contract-pipeline.ts).
 */
import type http from 'node:http';
import type { EscrowCommand } from '../../src/domain/escrow';
import { createLogger } from '../../src/logging/logger';
import { startOpsServer } from '../../src/ops/ops-server';
import { operationsViews } from '../../src/views/operations-views';
import type { ContractPipeline } from './contract-pipeline';
import { randomOpsPort } from './ops-port';
import type { TestContext } from './test-context';
import { settlement } from './contract-pipeline';

export const opsToken = 'ops-views-token-0123456789';

export interface OpsClient {
  /** GET with the token (or the headers given); the body parsed as JSON. */
  get(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The server's base URL, e.g. http://127.0.0.1:23456. */
  base(): string;
}

export function useOpsViewsServer(ctx: TestContext): OpsClient {
  let server: http.Server | undefined;
  let base = '';
  beforeAll(async () => {
    // A port below the ephemeral range can still be taken by another test file: try a few.
    for (let attempt = 0; server === undefined; attempt += 1) {
      const port = randomOpsPort();
      try {
        server = await startOpsServer(port, {
          token: opsToken,
          checks: {},
          metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
          views: operationsViews(ctx.db),
          reconciliation: () => Promise.reject(new Error('not served by this test')),
          log: createLogger({ LOG_LEVEL: 'silent' }),
        });
        base = `http://127.0.0.1:${port}`;
      } catch (error) {
        if (attempt >= 5) throw error;
      }
    }
  });
  ctx.beforeTeardown(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );
  return {
    base: () => base,
    async get(path, headers = { Authorization: `Bearer ${opsToken}` }) {
      const response = await fetch(`${base}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}

/**
 * A moment between two steps, on the database's clock (the one that stamps
 * ledger transactions), with room on both sides: the step before is stamped
 * earlier, the step after later, also by the worker's millisecond clock.
 */
export async function momentBetweenSteps(ctx: TestContext): Promise<string> {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
  await pause();
  const { rows } = await ctx.db.raw<{ rows: { moment: string }[] }>(
    `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS moment`,
  );
  await pause();
  return rows[0]!.moment;
}

/** The settlements of the stories built here (test/support/contract-pipeline.ts). */
export { settlement };

/**
 * Delivers through the one path on the real clock: disbursements are stamped
 * with the pipeline's clock and ledger transactions with the database's, and
 * the views compare both with one asOf.
 */
export function deliverNow(pipeline: ContractPipeline, command: EscrowCommand) {
  pipeline.now = new Date();
  return pipeline.deliver(command);
}
