/**
 * Why: `escrow-worker reconcile-gateway --record` keeps each run and each
 * difference it found, so finance can mark a difference explained (with a
 * note and who explained it) and later runs show only what is still
 * unexplained; GET /reconciliation/gateway/runs lists the runs. A
 * difference is the same across runs when its fingerprint is (gateway,
 * kind, type, reference and both sides' amounts and currencies): a
 * difference whose amounts change is a new one. Written by the operator's
 * command, read by the worker's operations API.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE gateway_reconciliation_runs (
      run_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      gateway        text NOT NULL CHECK (length(gateway) BETWEEN 1 AND 100),
      file_name      text NOT NULL,
      format         text NOT NULL,
      window_from    timestamptz NOT NULL,
      window_to      timestamptz NOT NULL,
      tolerance_ms   bigint NOT NULL CHECK (tolerance_ms >= 0),
      lines_read     bigint NOT NULL,
      matched        bigint NOT NULL,
      differences    bigint NOT NULL,
      new_differences bigint NOT NULL,
      explained      bigint NOT NULL,
      -- The counts by kind, totals per type and the nets, as the command printed them.
      summary        jsonb NOT NULL,
      recorded_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX gateway_reconciliation_runs_by_gateway
      ON gateway_reconciliation_runs (gateway, recorded_at DESC);

    CREATE TABLE gateway_reconciliation_differences (
      difference_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      gateway        text NOT NULL,
      fingerprint    text NOT NULL,
      kind           text NOT NULL CHECK (kind IN ('only_in_file', 'only_in_ledger',
                       'amount_differs', 'twice_in_file')),
      type           text NOT NULL,
      gateway_reference text NOT NULL,
      -- Both sides as the run saw them (lines, amounts, order, transaction).
      detail         jsonb NOT NULL,
      first_run_id   bigint NOT NULL REFERENCES gateway_reconciliation_runs (run_id),
      last_run_id    bigint NOT NULL REFERENCES gateway_reconciliation_runs (run_id),
      explained_at   timestamptz,
      explained_by   text,
      explanation    text CHECK (explanation IS NULL OR length(explanation) BETWEEN 1 AND 2000),
      UNIQUE (gateway, fingerprint),
      CHECK ((explained_at IS NULL) = (explanation IS NULL))
    );
    CREATE INDEX gateway_reconciliation_differences_by_run
      ON gateway_reconciliation_differences (last_run_id);
  `);
}
