/**
 * The planner settings of the pipeline's transactions: no sequential scan, no
 * hash or merge join. Every statement of a slice reads and writes rows by
 * their keys (an order's rows, an event's inbox key, an account's code), a
 * batch at a time, so the plan it should have is an index probe per key, at a
 * cost that does not grow with the tables.
 *
 * Without these settings Postgres plans each named statement for the tables
 * as they are when the statement is first prepared on a connection, and
 * keeps that plan until an ANALYZE of one of its tables invalidates it. A
 * worker started on new or small tables therefore reads payments,
 * milestones, inbox and accounts with sequential scans and hash joins, and
 * keeps doing so as they grow, until autovacuum's next analyze (a minute at
 * the least): measured on a fresh database at a steady 1,000 events/s, the
 * inbox look-up alone took 10 ms a call and a third of Postgres's statement
 * time (docs/benchmark.md, "Then: plans that do not depend on the tables'
 * size"). With them, a sequential scan or a hash join is still used where it
 * is the only way, and only then. JIT compilation is off too: a plan that
 * must still scan sequentially is costed so high with enable_seqscan off that
 * Postgres would compile it on every run (a look-up of a retried request by
 * `retry_of`, before it had an index, went from 34 to 350 ms on 300,000
 * rows); statements of a few milliseconds never gain from it.
 *
 * What remains while a table's statistics are stale (until autovacuum's next
 * analyze): a statement whose table has a partial index of open work (the
 * unsettled requests, the outstanding chargebacks, the events kept waiting)
 * may walk that whole index instead of probing by key, which costs in
 * proportion to the open work, not to the table.
 *
 * Set with set_config(…, true): for the rest of the transaction only, so the
 * connection goes back to the pool as it was (the operations API's reports
 * on the same pool plan as usual). Evaluated in the transaction's first
 * statement, before the others are planned.
 */
export const keyedPlansSql =
  "set_config('enable_seqscan', 'off', true) || set_config('enable_hashjoin', 'off', true) || " +
  "set_config('enable_mergejoin', 'off', true) || set_config('jit', 'off', true)";
